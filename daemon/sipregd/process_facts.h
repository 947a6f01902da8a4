#pragma once
// Reads what the metrics page reports about the process itself: open file descriptors,
// resident memory and CPU time from the kernel, loop handles from libuv.
#include <uv.h>

#include "metrics/metrics_snapshot.h"
#include "util/lateness_histogram.h"

namespace sipreg::daemon {

metrics::ProcessFacts readProcessFacts(uv_loop_t* loop, const LatenessHistogram& timerLateness);

}  // namespace sipreg::daemon
