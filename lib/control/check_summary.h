#pragma once
// The verdict of `check`: healthy when every line is registered, and the one-line summary
// a monitoring probe prints ("OK: 12/12 registered", "WARNING: 10/12 registered; waiting:
// a, b").
#include <nlohmann/json.hpp>

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "app/line_status.h"

namespace sipreg::control {

// Ids named per state in the summary line; the JSON reply lists them all.
inline constexpr std::size_t kSummaryIdsPerState = 5;

struct CheckResult {
    std::size_t registered = 0;
    std::size_t total = 0;
    // States other than registered, in a fixed order, with the lines in each (config order).
    std::vector<std::pair<reg::State, std::vector<std::string>>> notRegistered;
    bool healthy() const noexcept { return registered == total; }
    std::string summary() const;
};

CheckResult evaluateCheck(const std::vector<app::LineStatus>& lines);
// {"healthy","registered","total","not_registered":{state:[ids]},"summary"}
nlohmann::json encodeCheck(const CheckResult& result);

}  // namespace sipreg::control
