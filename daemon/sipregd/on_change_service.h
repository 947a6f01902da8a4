#pragma once
// The on_change command: on every line state change, runs the configured program with the
// line id, the two states and the response in SIPREGD_* environment variables. Nothing
// secret is ever among them: the variables are built here from the event and the line's
// registrar, and the child gets no other environment than the runner's small base.
#include <uv.h>

#include <spdlog/logger.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "app/line_status.h"
#include "config/model.h"
#include "net/command_runner.h"
#include "util/result.h"

namespace sipreg::app {
class LineManager;
}

namespace sipreg::daemon {

using CommandEnvironment = std::vector<std::pair<std::string, std::string>>;

// SIPREGD_LINE, SIPREGD_OLD_STATE, SIPREGD_NEW_STATE, SIPREGD_STATUS_CODE ("0" when no
// response caused the change), SIPREGD_REASON, SIPREGD_TEXT, SIPREGD_REGISTRAR, SIPREGD_TIME
// (Unix seconds). NUL bytes, which no environment can carry, become '?'.
CommandEnvironment onChangeEnvironment(const app::StateChangeEvent& event, std::string_view registrar);

class OnChangeService {
public:
    OnChangeService(uv_loop_t* loop, std::shared_ptr<spdlog::logger> log);
    ~OnChangeService();
    OnChangeService(const OnChangeService&) = delete;
    OnChangeService& operator=(const OnChangeService&) = delete;

    // Installs the state-change listener on `manager` when a command is configured and
    // removes it when not; later changes use these settings (called at start and on reload).
    // An error when the runner cannot watch SIGCHLD: no command will run.
    Result<void> apply(app::LineManager& manager, const config::OnChangeSettings& settings);
    // Nothing running and nothing queued (shutdown waits for this, within its timeout).
    bool idle() const noexcept { return !runner_ || runner_->idle(); }
    // Removes the listener and ends running commands (bounded). Call before the manager dies.
    void close() noexcept;

    const net::CommandCounters* counters() const noexcept { return runner_ ? &runner_->counters() : nullptr; }

private:
    void onStateChange(const app::StateChangeEvent& event);
    void onFinished(const net::CommandJob& job, const net::CommandOutcome& outcome);

    uv_loop_t* loop_;
    std::shared_ptr<spdlog::logger> log_;
    app::LineManager* manager_ = nullptr;
    config::OnChangeSettings settings_;
    std::unique_ptr<net::CommandRunner> runner_;
};

}  // namespace sipreg::daemon
