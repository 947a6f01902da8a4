#include "on_change_service.h"

#include <algorithm>
#include <chrono>

#include "app/line_manager.h"
#include "reg/state.h"

namespace sipreg::daemon {
namespace {

std::string envValue(std::string_view v) {
    std::string out(v);
    std::replace(out.begin(), out.end(), '\0', '?');
    return out;
}

}  // namespace

CommandEnvironment onChangeEnvironment(const app::StateChangeEvent& event, std::string_view registrar) {
    CommandEnvironment env;
    env.reserve(8);
    env.emplace_back("SIPREGD_LINE", envValue(event.lineId));
    const app::StateChangeRecord* change = event.change;
    env.emplace_back("SIPREGD_OLD_STATE", change ? std::string(reg::stateName(change->from)) : std::string());
    env.emplace_back("SIPREGD_NEW_STATE", change ? std::string(reg::stateName(change->to)) : std::string());
    env.emplace_back("SIPREGD_STATUS_CODE", std::to_string(change ? change->statusCode : 0));
    env.emplace_back("SIPREGD_REASON", envValue(event.reason));
    env.emplace_back("SIPREGD_TEXT", change ? envValue(change->text) : std::string());
    env.emplace_back("SIPREGD_REGISTRAR", envValue(registrar));
    env.emplace_back("SIPREGD_TIME", std::to_string(change ? change->wallSeconds : 0));
    return env;
}

OnChangeService::OnChangeService(uv_loop_t* loop, std::shared_ptr<spdlog::logger> log)
    : loop_(loop), log_(std::move(log)) {}

OnChangeService::~OnChangeService() { close(); }

Result<void> OnChangeService::apply(app::LineManager& manager, const config::OnChangeSettings& settings) {
    settings_ = settings;
    manager_ = &manager;
    if (settings_.command.empty()) {
        manager.setStateChangeListener({});
        return {};
    }
    if (!runner_) {
        net::CommandRunnerOptions options;
        options.name = "on_change";
        runner_ = std::make_unique<net::CommandRunner>(
            loop_, options, [this](const net::CommandJob& job, const net::CommandOutcome& o) { onFinished(job, o); },
            log_);
    }
    if (auto started = runner_->start(); !started) {
        manager.setStateChangeListener({});
        return started;
    }
    manager.setStateChangeListener([this](const app::StateChangeEvent& e) { onStateChange(e); });
    return {};
}

void OnChangeService::onStateChange(const app::StateChangeEvent& event) {
    if (!runner_ || !manager_ || settings_.command.empty()) return;
    std::string registrar;
    if (auto status = manager_->status(event.lineId)) registrar = std::move(status->registrar);
    net::CommandJob job;
    job.argv = settings_.command;
    job.env = onChangeEnvironment(event, registrar);
    job.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(settings_.timeout);
    job.label = std::string(event.lineId);
    const uint64_t droppedBefore = runner_->counters().dropped;
    auto submitted = runner_->submit(std::move(job));
    // A full queue is logged by the runner once per burst, not once per change.
    if (!submitted && runner_->counters().dropped == droppedBefore) {
        log_->warn("on_change {}: {}", event.lineId, submitted.error().message);
    }
}

void OnChangeService::onFinished(const net::CommandJob& job, const net::CommandOutcome& outcome) {
    if (outcome.ok()) {
        log_->debug("on_change {}: {} in {} ms", job.label, net::describe(outcome), outcome.elapsed.count());
    } else {
        // A spawn failure's message already names the program.
        const std::string program = outcome.end == net::CommandEnd::SpawnFailed ? std::string() : job.argv.front() + " ";
        log_->warn("on_change {}: {}{}", job.label, program, net::describe(outcome));
    }
}

void OnChangeService::close() noexcept {
    if (manager_ != nullptr) {
        manager_->setStateChangeListener({});
        manager_ = nullptr;
    }
    if (runner_) runner_->close();
}

}  // namespace sipreg::daemon
