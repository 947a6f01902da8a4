#pragma once
// "did you mean" hints for misspelt keys and values.
#include <optional>
#include <span>
#include <string_view>

namespace sipreg::config {

// Edit distance counting insertions, deletions, substitutions and swaps of adjacent
// characters (the usual typing mistakes), case-insensitive.
std::size_t editDistance(std::string_view a, std::string_view b);

// The closest candidate when it is close enough to be a plausible typo, else nullopt.
std::optional<std::string_view> suggestClosest(std::string_view word,
                                               std::span<const std::string_view> candidates);

}  // namespace sipreg::config
