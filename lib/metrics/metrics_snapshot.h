#pragma once
// Everything one scrape reports, copied out of the engine at one moment.
#include <string>
#include <vector>

#include "app/line_manager.h"
#include "app/line_status.h"
#include "app/status_summary.h"
#include "txn/client_table.h"

namespace sipreg::metrics {

struct MetricsSnapshot {
    std::vector<app::LineStatus> lines;  // config order
    app::StateCounts counts;
    app::ManagerCounters manager;
    txn::ClientCounters transactions;
    double startTimeSeconds = 0;         // Unix time the daemon started
    std::string version;
};

}  // namespace sipreg::metrics
