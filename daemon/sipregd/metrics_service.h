#pragma once
// The Prometheus endpoint of the daemon: when `metrics.listen` is set, serves /metrics over
// HTTP from a fresh snapshot of the LineManager on every scrape (docs/operations.md lists
// the metrics). Off by default.
#include <uv.h>

#include <spdlog/logger.h>

#include <functional>
#include <memory>
#include <optional>

#include "config/model.h"
#include "metrics/http_server.h"
#include "metrics/metrics_snapshot.h"
#include "net/socket_address.h"
#include "util/result.h"

namespace sipreg::app {
class LineManager;
}

namespace sipreg::daemon {

// What a scrape sees: copied out of the manager now.
metrics::MetricsSnapshot takeMetricsSnapshot(app::LineManager& manager, double startTimeSeconds);

// Facts about the process for the page (open fds, memory, loop handles), read per scrape.
using ProcessFactsSource = std::function<metrics::ProcessFacts()>;

class MetricsService {
public:
    MetricsService(uv_loop_t* loop, std::shared_ptr<spdlog::logger> log);
    ~MetricsService();
    MetricsService(const MetricsService&) = delete;
    MetricsService& operator=(const MetricsService&) = delete;

    // Listens when settings.listen is set (does nothing otherwise). The manager must outlive
    // the service or close() must come first. An error when the address cannot be bound.
    Result<void> start(const config::MetricsSettings& settings, app::LineManager& manager,
                       ProcessFactsSource processFacts = {});
    void close() noexcept;
    // The bound address once listening.
    std::optional<net::SocketAddress> address() const { return address_; }

private:
    uv_loop_t* loop_;
    std::shared_ptr<spdlog::logger> log_;
    double startTimeSeconds_;
    app::LineManager* manager_ = nullptr;
    ProcessFactsSource processFacts_;
    std::unique_ptr<metrics::HttpServer> server_;
    std::optional<net::SocketAddress> address_;
};

}  // namespace sipreg::daemon
