#pragma once
// What the control protocol asks of the daemon. The daemon implements it over its
// LineManager and reload; tests implement it with fixed answers.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "app/line_status.h"
#include "app/status_summary.h"
#include "control/status_json.h"

namespace sipreg::control {

class Backend {
public:
    virtual ~Backend() = default;
    virtual std::vector<app::LineStatus> statusAll() const = 0;       // config order, no history
    virtual std::optional<app::LineStatus> status(std::string_view id) const = 0;  // with history
    virtual app::StateCounts counts() const = 0;
    virtual bool refresh(std::string_view id) = 0;                    // false: no such line
    virtual std::size_t refreshAll() = 0;
    virtual ReloadReport reload() = 0;
    virtual int64_t wallSeconds() const = 0;                          // Unix time now
};

}  // namespace sipreg::control
