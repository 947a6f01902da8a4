#pragma once
// Durations as operators write them: "600" (seconds), "30s", "5m", "1h", "1d", "1h30m".
#include <chrono>
#include <string>
#include <string_view>

#include "util/result.h"

namespace sipreg::config {

// Text for error messages listing what parseDuration accepts.
inline constexpr std::string_view kDurationForms =
    "a whole number of seconds or numbers with units s, m, h, d (e.g. 600, 30s, 5m, 1h, 1h30m)";

Result<std::chrono::seconds> parseDuration(std::string_view text);

// The shortest exact form: "90s" -> "1m30s", "3600s" -> "1h", 0 -> "0s".
std::string formatDuration(std::chrono::seconds d);

}  // namespace sipreg::config
