#include "metrics_service.h"

#include <spdlog/spdlog.h>

#include <chrono>

#include "app/line_manager.h"
#include "metrics/metrics_renderer.h"

#ifndef SIPREGD_VERSION
#error "SIPREGD_VERSION must be defined by the build"
#endif

namespace sipreg::daemon {

metrics::MetricsSnapshot takeMetricsSnapshot(app::LineManager& manager, double startTimeSeconds) {
    metrics::MetricsSnapshot s;
    s.lines = manager.statusAll(false);
    s.counts = manager.counts();
    s.manager = manager.counters();
    s.transactions = manager.transactions().client().counters();
    s.server = manager.transactions().server().counters();
    s.requests = manager.requestCounters();
    s.startTimeSeconds = startTimeSeconds;
    s.version = SIPREGD_VERSION;
    return s;
}

namespace {

double nowUnixSeconds() {
    using namespace std::chrono;
    return static_cast<double>(duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count()) / 1000.0;
}

}  // namespace

MetricsService::MetricsService(uv_loop_t* loop, std::shared_ptr<spdlog::logger> log)
    : loop_(loop), log_(std::move(log)), startTimeSeconds_(nowUnixSeconds()) {}

MetricsService::~MetricsService() { close(); }

Result<void> MetricsService::start(const config::MetricsSettings& settings, app::LineManager& manager,
                                   ProcessFactsSource processFacts) {
    if (!settings.listen) return {};
    processFacts_ = std::move(processFacts);
    auto where = net::SocketAddress::fromIp(settings.listen->address, settings.listen->port);
    if (!where) return makeError("metrics listen " + settings.listen->address + ": " + where.error().message);
    manager_ = &manager;
    server_ = std::make_unique<metrics::HttpServer>(
        loop_, [this](std::string_view path) -> std::optional<metrics::HttpPage> {
            if (path != "/metrics" || manager_ == nullptr) return std::nullopt;
            metrics::MetricsSnapshot snapshot = takeMetricsSnapshot(*manager_, startTimeSeconds_);
            if (processFacts_) snapshot.process = processFacts_();
            return metrics::HttpPage{std::string(metrics::kExpositionContentType), metrics::renderMetrics(snapshot)};
        });
    auto bound = server_->listen(*where);
    if (!bound) {
        server_.reset();
        manager_ = nullptr;
        return makeError("metrics: " + bound.error().message);
    }
    address_ = *bound;
    log_->info("metrics on http://{}/metrics", bound->toString());
    return {};
}

void MetricsService::close() noexcept {
    server_.reset();
    manager_ = nullptr;
    address_.reset();
}

}  // namespace sipreg::daemon
