#include "control_service.h"

#include <chrono>

#include "app/line_manager.h"

namespace sipreg::daemon {

ControlService::ControlService(uv_loop_t* loop, std::shared_ptr<spdlog::logger> log)
    : log_(log), server_(loop, *this, log) {
    server_.setTraceActivation([this](bool on) { setTracing(on); });
}

ControlService::~ControlService() { close(); }

bool ControlService::start(app::LineManager& manager, std::function<ReloadOutcome()> reload,
                           const config::ControlSettings& settings) {
    manager_ = &manager;
    reload_ = std::move(reload);
    control::ServerSettings s;
    s.path = settings.socket;
    s.mode = settings.mode;
    auto started = server_.start(std::move(s));
    if (started) {
        log_->info("control socket {} (mode {:04o})", settings.socket, settings.mode);
        return true;
    }
    if (settings.socketGiven) {
        log_->critical("control socket: {}", started.error().message);
        return false;
    }
    log_->warn("control socket: {}; sipregctl cannot reach this daemon", started.error().message);
    return true;
}

void ControlService::close() noexcept {
    try {
        server_.close();
    } catch (const std::exception& e) {
        log_->error("control socket close: {}", e.what());
    }
    if (manager_ != nullptr) manager_->setTraceListener({});
    manager_ = nullptr;
}

void ControlService::setTracing(bool on) {
    if (manager_ == nullptr) return;
    if (on) {
        manager_->setTraceListener([this](const app::TraceEvent& e) { server_.publishTrace(e); });
    } else {
        manager_->setTraceListener({});
    }
}

std::vector<app::LineStatus> ControlService::statusAll() const {
    return manager_ != nullptr ? manager_->statusAll(false) : std::vector<app::LineStatus>{};
}

std::optional<app::LineStatus> ControlService::status(std::string_view id) const {
    return manager_ != nullptr ? manager_->status(id) : std::nullopt;
}

app::StateCounts ControlService::counts() const { return manager_ != nullptr ? manager_->counts() : app::StateCounts{}; }

bool ControlService::refresh(std::string_view id) {
    if (manager_ == nullptr) return false;
    const bool found = manager_->refresh(id);
    if (found) log_->info("line={} refresh requested over the control socket", id);
    return found;
}

std::size_t ControlService::refreshAll() {
    if (manager_ == nullptr) return 0;
    const std::size_t n = manager_->refreshAll();
    log_->info("refresh of {} lines requested over the control socket", n);
    return n;
}

control::ReloadReport ControlService::reload() {
    control::ReloadReport report;
    if (!reload_) {
        report.errors.push_back("reload is not available");
        return report;
    }
    log_->info("reload requested over the control socket");
    ReloadOutcome outcome = reload_();
    report.applied = outcome.applied;
    report.errors = std::move(outcome.errors);
    report.warnings = std::move(outcome.warnings);
    report.diff = std::move(outcome.diff);
    return report;
}

int64_t ControlService::wallSeconds() const {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace sipreg::daemon
