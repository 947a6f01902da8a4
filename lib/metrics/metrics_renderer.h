#pragma once
// The /metrics page: a MetricsSnapshot in the Prometheus text exposition format 0.0.4.
// Every metric is listed with its meaning in docs/operations.md ("Metrics").
#include <string>
#include <string_view>

#include "metrics/metrics_snapshot.h"

namespace sipreg::metrics {

inline constexpr std::string_view kExpositionContentType = "text/plain; version=0.0.4; charset=utf-8";

std::string renderMetrics(const MetricsSnapshot& snapshot);

}  // namespace sipreg::metrics
