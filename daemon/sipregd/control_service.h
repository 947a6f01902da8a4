#pragma once
// The control socket of the running daemon: serves the LineManager's status, refreshes and
// the daemon's reload to sipregctl, and holds the manager's trace listener while at least
// one `trace` client is attached (none is installed otherwise: tracing costs nothing
// unless someone watches).
#include <uv.h>

#include <spdlog/logger.h>

#include <functional>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "config/model.h"
#include "control/backend.h"
#include "control/control_server.h"
#include "reload_outcome.h"

namespace sipreg::app {
class LineManager;
}

namespace sipreg::daemon {

class ControlService final : public control::Backend {
public:
    ControlService(uv_loop_t* loop, std::shared_ptr<spdlog::logger> log);
    ~ControlService() override;
    ControlService(const ControlService&) = delete;
    ControlService& operator=(const ControlService&) = delete;

    // Creates the socket and serves `manager`. When the socket cannot be created this logs
    // why and returns false only if the path was configured explicitly (a start-up
    // failure); the default path missing (no /run/sipregd, say) is a warning and true.
    bool start(app::LineManager& manager, std::function<ReloadOutcome()> reload, const config::ControlSettings& settings);
    // Drops every client, removes the socket and the trace listener. Call before the
    // manager dies; idempotent.
    void close() noexcept;

    std::vector<app::LineStatus> statusAll() const override;
    std::optional<app::LineStatus> status(std::string_view id) const override;
    app::StateCounts counts() const override;
    bool refresh(std::string_view id) override;
    std::size_t refreshAll() override;
    control::ReloadReport reload() override;
    int64_t wallSeconds() const override;

private:
    void setTracing(bool on);

    std::shared_ptr<spdlog::logger> log_;
    control::ControlServer server_;
    app::LineManager* manager_ = nullptr;
    std::function<ReloadOutcome()> reload_;
};

}  // namespace sipreg::daemon
