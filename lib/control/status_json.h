#pragma once
// The one JSON encoding of what the engine reports (docs/control.md, "Line objects"):
// LineStatus, state counts, state changes, reload results and trace events. States use
// reg::stateName's words; durations are whole seconds; absent values are null.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "app/line_status.h"
#include "app/status_summary.h"
#include "config/diff.h"

namespace sipreg::control {

// What a reload did (mirrors the daemon's outcome without depending on the daemon).
struct ReloadReport {
    bool applied = false;
    std::vector<std::string> errors;    // file:line:column messages when refused
    std::vector<std::string> warnings;
    config::ConfigDiff diff;
};

nlohmann::json encodeChange(const app::StateChangeRecord& change);
// `detailed` adds history, counters, outbound proxy and setup error (the `show` reply).
nlohmann::json encodeLine(const app::LineStatus& status, bool detailed);
nlohmann::json encodeCounts(const app::StateCounts& counts);
nlohmann::json encodeCounters(const reg::LineCounters& counters);
// The body of a `reload` reply (without "ok").
nlohmann::json encodeReload(const ReloadReport& report);
// One streamed `trace` message; `wallSeconds` is when it was seen (Unix time).
nlohmann::json encodeTrace(const app::TraceEvent& event, double wallSeconds);

}  // namespace sipreg::control
