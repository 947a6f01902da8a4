#include "daemon.h"

#include <spdlog/spdlog.h>
#include <uv.h>

#include <malloc.h>

#include <algorithm>
#include <iostream>
#include <memory>

#include "app/line_manager.h"
#include "app/status_summary.h"
#include "config/loader.h"
#include "crypto/random_source.h"
#include "net/logging.h"
#include "net/signal_watcher.h"
#include "net/systemd_notifier.h"
#include "net/udp_transport.h"
#include "net/uv_clock.h"
#include "net/uv_handle.h"
#include "net/uv_timer_driver.h"
#include "util/timer_queue.h"
#include "control_service.h"
#include "metrics_service.h"
#include "on_change_service.h"
#include "once_run.h"
#include "process_facts.h"
#include "reload_outcome.h"
#include "uv_engine_port.h"

namespace sipreg::daemon {
namespace {

// The YAML document tree of a large file is freed right after loading; hand those pages
// back so a long-running daemon's RSS reflects its lines, not its last parse.
void releaseFreedMemory() { malloc_trim(0); }

void logIssues(spdlog::logger& log, const config::LoadResult& result) {
    for (const auto& e : result.errors) log.error("{}", e.format("error"));
    for (const auto& w : result.warnings) log.warn("{}", w.format("warning"));
}

std::string_view levelName(config::LogLevel l) { return config::toString(l); }

class Daemon {
public:
    Daemon(uv_loop_t* loop, std::shared_ptr<spdlog::logger> log, config::Config config, std::string path)
        : loop_(loop),
          log_(std::move(log)),
          path_(std::move(path)),
          clock_(loop),
          driver_(loop, timers_, clock_),
          udp_(loop,
               [this](std::string_view bytes, const net::SocketAddress& from, const net::SocketAddress&) {
                   if (manager_) manager_->onDatagram(bytes, toPeer(from));
               },
               [this](const net::TransportError& e) { log_->debug("udp: {}", e.message); }),
          port_(loop, udp_, driver_, clock_, random_, log_, config.global.dns),
          notifier_(loop),
          signals_(loop, [this](int signum) { onSignal(signum); }),
          global_(config.global),
          initial_(std::move(config)) {}

    int run() {
        net::SignalWatcher::ignoreSigpipe();
        std::vector<net::SocketAddress> bound;
        for (const auto& l : global_.listen) {
            auto address = net::SocketAddress::fromIp(l.address, l.port);
            if (!address) {
                log_->critical("listen {}: {}", l.address, address.error().message);
                return kExitStartup;
            }
            auto b = udp_.bind(*address);
            if (!b) {
                log_->critical("cannot listen on {}: {}", address->toString(), b.error().message);
                return kExitStartup;
            }
            log_->info("listening on udp {}", b->toString());
            bound.push_back(*b);
        }
        port_.setBound(std::move(bound));
        if (!port_.startupError().empty()) {
            log_->critical("{}", port_.startupError());
            return kExitStartup;
        }
        if (auto s = signals_.start(); !s) {
            log_->critical("{}", s.error().message);
            return kExitStartup;
        }

        app::ManagerSettings settings;
        settings.responder.inviteStatus = global_.inviteResponse.code;
        settings.responder.inviteReason = global_.inviteResponse.reason;
        manager_ = std::make_unique<app::LineManager>(settings, port_, timers_, clock_, random_, log_);
        // Completions arrive from the loop; after shutdown there is no manager to tell.
        PortListeners listeners;
        listeners.resolved = [this] {
            if (manager_) manager_->onResolved();
        };
        listeners.flowConnected = [this](uint64_t flow) {
            if (manager_) manager_->onFlowConnected(flow);
        };
        listeners.flowClosed = [this](uint64_t flow, std::string_view reason) {
            if (manager_) manager_->onFlowClosed(flow, reason);
        };
        listeners.message = [this](std::string_view bytes, const txn::Peer& from) {
            if (manager_) manager_->onDatagram(bytes, from);
        };
        port_.setListeners(std::move(listeners));
        manager_->setStatusListener([this](const app::StateCounts& c) { notifier_.status(app::statusLine(c)); });
        if (auto r = onChange_.apply(*manager_, global_.onChange); !r) log_->error("on_change: {}", r.error().message);
        if (!onceMode && !control_.start(*manager_, [this] { return reload(); }, global_.control)) return kExitStartup;
        if (auto m = onceMode ? Result<void>() : metrics_.start(global_.metrics, *manager_, [this] {
                                                 return readProcessFacts(loop_, driver_.lateness());
                                             });
            !m) {
            log_->critical("{}", m.error().message);
            return kExitStartup;
        }
        // The manager holds the only copy of the configuration from here on.
        manager_->start(std::move(initial_));
        initial_ = {};
        releaseFreedMemory();
        // Ready once local start-up is done: registrars may be down, that is what the
        // lines' own states report.
        if (onceMode) {
            startOnce();
        } else {
            notifier_.ready();
        }
        log_->info("started with {} lines from {}", manager_->counts().total, path_);

        uv_run(loop_, UV_RUN_DEFAULT);
        return exitCode_;
    }

private:
    // --once: the first outcome of every line (a REGISTER may take Timer F, 32 s, to give
    // up), then the table and the normal unregistering shutdown.
    void startOnce() {
        onceWatcher_ = std::make_unique<OnceWatcher>(
            loop_, *manager_, clock_, std::chrono::seconds(40), [this](std::vector<OnceResult> results) {
                printOnceTable(std::cout, results);
                std::cout.flush();
                const bool allRegistered = std::all_of(results.begin(), results.end(),
                                                       [](const OnceResult& r) { return r.registered; });
                exitCode_ = allRegistered ? kExitOk : kExitLinesFailed;
                if (!shuttingDown_) shutdown();
            });
    }

    void onSignal(int signum) {
        if (signum == SIGHUP) {
            reload();
        } else if (!shuttingDown_) {
            log_->info("signal {}: unregistering all lines (at most {} s)", signum,
                       global_.shutdownTimeout.count());
            shutdown();
        } else {
            log_->warn("signal {} again: exiting without waiting for the unregistrations", signum);
            finish();
        }
    }

    ReloadOutcome reload() {
        ReloadOutcome outcome;
        if (shuttingDown_) {
            outcome.errors.push_back("shutting down: reload ignored");
            return outcome;
        }
        notifier_.reloading();
        log_->info("reloading {}", path_);
        auto result = config::loadConfigFile(path_);
        clock_.update();
        for (const auto& w : result.warnings) outcome.warnings.push_back(w.format("warning"));
        if (!result.ok()) {
            logIssues(*log_, result);
            for (const auto& e : result.errors) outcome.errors.push_back(e.format("error"));
            log_->error("reload rejected: {} error(s); the running configuration stays in force",
                        result.errors.size());
            notifier_.ready();
            return outcome;
        }
        for (const auto& w : outcome.warnings) log_->warn("{}", w);
        if (result.config->global.listen != global_.listen) {
            log_->warn("listen addresses changed: that takes a restart; the sockets stay as they are");
        }
        if (result.config->global.dns != global_.dns) {
            log_->warn("dns servers changed: that takes a restart; lookups keep using the old ones");
        }
        if (result.config->global.metrics != global_.metrics) {
            log_->warn("metrics listen address changed: that takes a restart; the endpoint stays as it is");
        }
        if (result.config->global.control != global_.control) {
            log_->warn("control socket settings changed: that takes a restart; the socket stays as it is");
        }
        if (result.config->global.logLevel != global_.logLevel && !logLevelPinned) {
            if (auto lvl = net::parseLogLevel(levelName(result.config->global.logLevel))) log_->set_level(*lvl);
        }
        global_.logLevel = result.config->global.logLevel;
        global_.shutdownTimeout = result.config->global.shutdownTimeout;
        if (auto r = onChange_.apply(*manager_, result.config->global.onChange); !r) {
            log_->error("on_change: {}", r.error().message);
        }
        outcome.diff = manager_->reload(std::move(*result.config));
        outcome.applied = true;
        releaseFreedMemory();
        const config::ConfigDiff& diff = outcome.diff;
        log_->info("reload applied: {} added, {} removed, {} changed, {} unchanged", diff.added.size(),
                   diff.removed.size(), diff.changed.size(), diff.unchanged.size());
        notifier_.ready();
        return outcome;
    }

    void shutdown() {
        shuttingDown_ = true;
        notifier_.stopping();
        manager_->stopAll();
        deadline_ = clock_.now() + std::chrono::duration_cast<Duration>(global_.shutdownTimeout);
        // Polled while stopping only: lines finish on responses and timeouts.
        uv_timer_init(loop_, shutdownPoll_.get());
        shutdownPoll_.get()->data = this;
        uv_timer_start(shutdownPoll_.get(), &Daemon::onShutdownPoll, 20, 20);
    }

    static void onShutdownPoll(uv_timer_t* t) noexcept {
        auto* self = static_cast<Daemon*>(t->data);
        if (self == nullptr) return;
        try {
            // The commands of the last changes (to stopped) may still run: wait for them too.
            const bool idle = self->manager_->idle() && self->onChange_.idle();
            if (idle || self->clock_.now() >= self->deadline_) {
                if (!idle) {
                    self->log_->warn("shutdown timeout: some lines were still unregistering");
                } else {
                    self->log_->info("all lines unregistered");
                }
                self->finish();
            }
        } catch (const std::exception& e) {
            self->log_->error("shutdown: {}", e.what());
            self->finish();
        }
    }

    void finish() {
        shutdownPoll_.reset();
        if (onceWatcher_) onceWatcher_->close();
        onChange_.close();
        control_.close();
        metrics_.close();
        manager_.reset();
        port_.close();
        driver_.close();
        udp_.close();
        notifier_.close();
        signals_.close();
    }

public:
    bool logLevelPinned = false;
    bool onceMode = false;

private:
    uv_loop_t* loop_;
    std::shared_ptr<spdlog::logger> log_;
    std::string path_;
    net::UvClock clock_;
    TimerQueue timers_;
    net::UvTimerDriver driver_;
    net::UdpTransport udp_;
    crypto::OpenSslRandomSource random_;
    UvEnginePort port_;
    net::SystemdNotifier notifier_;
    net::SignalWatcher signals_;
    config::GlobalSettings global_;  // what the daemon itself uses; lines live in the manager
    config::Config initial_;
    std::unique_ptr<app::LineManager> manager_;
    // After manager_: destroyed first, it removes its listener from the living manager.
    OnChangeService onChange_{loop_, log_};
    ControlService control_{loop_, log_};  // after manager_ too: it clears the trace listener
    MetricsService metrics_{loop_, log_};  // after manager_: scrapes read it until closed
    net::UvHandle<uv_timer_t> shutdownPoll_;
    std::unique_ptr<OnceWatcher> onceWatcher_;
    bool shuttingDown_ = false;
    TimePoint deadline_{};
    int exitCode_ = kExitOk;
};

}  // namespace

int runDaemon(const RunOptions& options) {
    auto loaded = config::loadConfigFile(options.configPath);
    auto provisional = net::setupLogging(spdlog::level::info);
    if (!loaded.ok()) {
        logIssues(*provisional, loaded);
        provisional->critical("{}: configuration invalid, not starting", options.configPath);
        return loaded.unreadable ? kExitUsage : kExitConfigInvalid;
    }
    const std::string level = options.logLevel ? *options.logLevel : std::string(levelName(loaded.config->global.logLevel));
    auto parsedLevel = net::parseLogLevel(level);
    if (!parsedLevel) {
        provisional->critical("{}", parsedLevel.error().message);
        return kExitUsage;
    }
    auto log = net::setupLogging(*parsedLevel);
    for (const auto& w : loaded.warnings) log->warn("{}", w.format("warning"));
    if (options.once) {
        config::Config& cfg = *loaded.config;
        for (const std::string& id : options.onceLines) {
            if (cfg.findLine(id) == nullptr) {
                log->critical("--line {}: no such line in {}", id, options.configPath);
                return kExitUsage;
            }
        }
        if (!options.onceLines.empty()) {
            std::erase_if(cfg.lines, [&](const config::LineConfig& l) {
                return std::find(options.onceLines.begin(), options.onceLines.end(), l.id) == options.onceLines.end();
            });
            for (config::LineConfig& l : cfg.lines) l.enabled = true;  // asked for by name
        }
        cfg.global.startSpread = config::Seconds{0};
    }

    uv_loop_t loop;
    if (uv_loop_init(&loop) != 0) {
        log->critical("cannot create the event loop");
        return kExitStartup;
    }
    int code = kExitOk;
    {
        Daemon daemon(&loop, log, std::move(*loaded.config), options.configPath);
        daemon.logLevelPinned = options.logLevel.has_value();
        daemon.onceMode = options.once;
        code = daemon.run();
    }
    // Drain the close callbacks of every handle, then the loop must be empty.
    uv_run(&loop, UV_RUN_DEFAULT);
    if (uv_loop_close(&loop) != 0) log->warn("event loop closed with handles still open");
    return code;
}

}  // namespace sipreg::daemon
