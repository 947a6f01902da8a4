#include "config/key_suggestion.h"

#include <algorithm>
#include <vector>

namespace sipreg::config {

namespace {

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

}  // namespace

std::size_t editDistance(std::string_view a, std::string_view b) {
    const std::size_t n = a.size(), m = b.size();
    // Three rolling rows are enough for the adjacent-swap rule.
    std::vector<std::size_t> prev2(m + 1), prev(m + 1), cur(m + 1);
    for (std::size_t j = 0; j <= m; ++j) prev[j] = j;
    for (std::size_t i = 1; i <= n; ++i) {
        cur[0] = i;
        for (std::size_t j = 1; j <= m; ++j) {
            const std::size_t cost = lower(a[i - 1]) == lower(b[j - 1]) ? 0 : 1;
            cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost});
            if (i > 1 && j > 1 && lower(a[i - 1]) == lower(b[j - 2]) && lower(a[i - 2]) == lower(b[j - 1])) {
                cur[j] = std::min(cur[j], prev2[j - 2] + 1);
            }
        }
        std::swap(prev2, prev);
        std::swap(prev, cur);
    }
    return prev[m];
}

std::optional<std::string_view> suggestClosest(std::string_view word,
                                               std::span<const std::string_view> candidates) {
    std::optional<std::string_view> best;
    std::size_t bestDistance = 0;
    for (std::string_view candidate : candidates) {
        const std::size_t d = editDistance(word, candidate);
        if (!best || d < bestDistance) {
            best = candidate;
            bestDistance = d;
        }
    }
    if (!best) return std::nullopt;
    // A truncated or extended word ("max" for "maximum", "realms" for "realm").
    for (std::string_view candidate : candidates) {
        const std::string_view shorter = word.size() < candidate.size() ? word : candidate;
        const std::string_view longer = word.size() < candidate.size() ? candidate : word;
        if (shorter.size() >= 3 && editDistance(longer.substr(0, shorter.size()), shorter) == 0) return candidate;
    }
    // A third of the longer word, at least one and at most three edits: catches
    // "expire", "user-agent" and "pasword" without proposing unrelated keys.
    const std::size_t longest = std::max(word.size(), best->size());
    const std::size_t allowed = std::clamp<std::size_t>(longest / 3, 1, 3);
    if (bestDistance > allowed) return std::nullopt;
    return best;
}

}  // namespace sipreg::config
