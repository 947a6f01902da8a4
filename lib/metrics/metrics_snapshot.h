#pragma once
// Everything one scrape reports, copied out of the engine at one moment.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "app/line_manager.h"
#include "app/line_status.h"
#include "app/status_summary.h"
#include "app/request_gate.h"
#include "txn/client_table.h"
#include "txn/server_responder.h"
#include "util/lateness_histogram.h"

namespace sipreg::metrics {

// The process as the operating system and the event loop see it (filled by the daemon).
struct ProcessFacts {
    LatenessHistogram timerLateness;
    uint64_t loopHandles = 0;              // libuv handles not yet closed
    std::optional<uint64_t> openFds;       // nullopt where /proc is not readable
    std::optional<uint64_t> residentBytes;
    double cpuSeconds = 0;                 // user + system
};

struct MetricsSnapshot {
    std::vector<app::LineStatus> lines;  // config order
    app::StateCounts counts;
    app::ManagerCounters manager;
    txn::ClientCounters transactions;
    txn::ServerCounters server;
    app::RequestCounters requests;
    std::optional<ProcessFacts> process;
    double startTimeSeconds = 0;         // Unix time the daemon started
    std::string version;
};

}  // namespace sipreg::metrics
