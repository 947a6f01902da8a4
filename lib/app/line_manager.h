#pragma once
// Owns every line's RegistrationMachine and binds them to the transaction layer, the
// shared TimerQueue, the global rate limiter and the network (through EnginePort).
// Applies a configuration at start and the difference at reload, and unregisters
// everything at shutdown. One thread; every entry point runs to completion.
//
// Per line the manager keeps a handle, timer slots and the transactions in flight; the
// configuration itself is held once (the current Config), not per line.
#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "app/engine_port.h"
#include "app/line_status.h"
#include "app/rate_limiter.h"
#include "app/request_gate.h"
#include "app/status_summary.h"
#include "config/diff.h"
#include "config/model.h"
#include "crypto/random_source.h"
#include "reg/registration_machine.h"
#include "txn/transaction_layer.h"
#include "util/clock.h"
#include "util/timer_queue.h"

namespace spdlog {
class logger;
}

namespace sipreg::app {

struct ManagerSettings {
    txn::TimerValues timers;
    txn::ResponderSettings responder;
};

struct ManagerCounters {
    uint64_t datagramsIn = 0;
    uint64_t malformed = 0;         // dropped: not a SIP message
    uint64_t keepAlivePings = 0;    // bare CRLF datagrams
    uint64_t strayResponses = 0;    // matched no transaction
    uint64_t sendErrors = 0;
    uint64_t rateLimited = 0;       // transactions that waited for a token
};

// One line as the outside (logs, status, control) sees it.
struct LineView {
    std::string_view id;
    reg::State state = reg::State::Stopped;
    const reg::RegistrationMachine* machine = nullptr;  // null when setup failed
    std::string_view setupError;                          // why there is no machine
};

class LineManager {
public:
    LineManager(ManagerSettings settings, EnginePort& port, TimerQueue& timers, const Clock& clock,
                crypto::RandomSource& random, std::shared_ptr<spdlog::logger> log);
    ~LineManager();
    LineManager(const LineManager&) = delete;
    LineManager& operator=(const LineManager&) = delete;

    // Starts every enabled line, spread at random over the config's start_spread.
    void start(config::Config config);
    // Applies a validated new configuration: unchanged lines are not touched, changed ones
    // re-register (unregistering the old binding when its identity changed), removed ones
    // unregister, added ones register.
    config::ConfigDiff reload(config::Config config);
    // Unregisters every line (rate-limited); idle() turns true when all are stopped.
    void stopAll();
    bool idle() const noexcept;

    // A SIP message (or keep-alive) from the network: a UDP datagram, or one message framed
    // out of a TCP/TLS connection (`from.flow` names it).
    void onDatagram(std::string_view bytes, const txn::Peer& from);
    // A lookup that answered Pending finished (any of them): parked lines try again.
    void onResolved();
    // A connection lines were waiting for is up, or a connection is gone (lines registered
    // over it register again over a new one; transactions in flight on it fail).
    void onFlowConnected(uint64_t flow);
    void onFlowClosed(uint64_t flow, std::string_view reason);
    // Forces a refresh of one line now; false if no such line.
    bool refresh(std::string_view id);

    // Called after every change of the state counts (feed it to sd_notify STATUS).
    void setStatusListener(std::function<void(const StateCounts&)> listener) {
        statusListener_ = std::move(listener);
    }

    // Copies for the control socket, metrics and --once: one line (with its history), or
    // every configured line in file order.
    std::optional<LineStatus> status(std::string_view id) const;
    std::vector<LineStatus> statusAll(bool withHistory = false) const;
    // Forces a refresh of every line now (rate-limited like any other); returns how many.
    std::size_t refreshAll();
    // One listener each; the daemon fans out. A trace listener costs nothing while unset.
    void setStateChangeListener(std::function<void(const StateChangeEvent&)> listener) {
        stateListener_ = std::move(listener);
    }
    void setTraceListener(std::function<void(const TraceEvent&)> listener) { traceListener_ = std::move(listener); }

    const StateCounts& counts() const noexcept { return counts_; }
    const ManagerCounters& counters() const noexcept { return counters_; }
    const RequestCounters& requestCounters() const noexcept { return requestGate_.counters(); }
    txn::TransactionLayer& transactions() noexcept { return txn_; }
    std::optional<LineView> line(std::string_view id) const;
    void forEachLine(const std::function<void(const LineView&)>& fn) const;
    const config::Config& config() const noexcept { return config_; }
    std::size_t retiringCount() const noexcept { return retiring_; }
    std::size_t queuedTransactions() const noexcept { return waiting_.size(); }

private:
    struct Pending {
        std::string branch;
        txn::TxnId txn = 0;
    };
    // An event that needs a route (DNS answer, connected flow) before the machine may see it.
    struct ParkedEvent {
        reg::Event::Kind kind = reg::Event::Kind::Start;
        reg::TimerKind timer = reg::TimerKind::Refresh;
        std::string detail;
    };
    enum class RouteStatus : uint8_t { Ready, Waiting, Failed };
    enum class WaitingFor : uint8_t { Nothing, Dns, Flow };
    struct Line {
        uint64_t handle = 0;
        std::string id;
        std::unique_ptr<reg::RegistrationMachine> machine;
        std::string setupError;
        // Routing: the first hop before DNS, the ordered targets for this line (RFC 3263 with
        // its own RFC 2782 weighting), the one in use and its connection on TCP/TLS.
        const config::LineConfig* cfg = nullptr;  // into config_ or, retiring, a retired one
        RouteRequest route;
        uint64_t routeGeneration = 0;
        std::vector<txn::Peer> targets;
        uint32_t targetIndex = 0;
        uint32_t failedInRound = 0;     // consecutive failovers since the last success
        txn::Peer peer;                 // current target; `flow` set on TCP/TLS
        uint64_t flow = 0;              // the connection this line holds a reference on
        std::string routeError;         // why no route: requests fail with this
        std::optional<ParkedEvent> parked;
        WaitingFor waitingFor = WaitingFor::Nothing;
        bool failoverDue = false;
        // For status: the last final response (or failure) and the recent state changes.
        int lastCode = 0;
        std::string lastReason;
        std::vector<StateChangeRecord> history;
        // Slots are created when first armed: most lines only ever use Refresh and Expiry.
        std::array<TimerQueue::Id, reg::kTimerKinds> timers{};
        TimerQueue::Id startTimer{};
        std::vector<Pending> pending;  // transactions in flight (at most a couple)
        reg::State counted = reg::State::Stopped;  // the state this line adds to counts_
        bool retiring = false;          // removed or replaced; unregistering, then freed
    };
    struct QueuedRequest {
        uint64_t handle = 0;
        std::string branch;
        std::string method;
        std::string bytes;
    };
    struct Deferred {
        uint64_t handle = 0;
        std::string branch;
        bool timeout = false;  // else transport error
        std::string detail;    // transport error: why
    };

    Line& createLine(const config::LineConfig& cfg, bool countIt);
    void setupMachine(Line& line, const config::LineConfig& cfg);
    void scheduleStart(Line& line, Duration delay);
    void retire(Line& line, bool unregister);
    void destroy(uint64_t handle);
    void sweep();
    // Every address a line sends to (its targets), for requests.answer_from: registrars.
    void collectFirstHops(std::vector<txn::Peer>& out) const;

    void dispatch(Line& line, const reg::Event& event);
    // For events that may send: waits for the route (parking the event) or dispatches it.
    void dispatchRouted(Line& line, const reg::Event& event);
    RouteStatus prepareRoute(Line& line);
    void resumeParked(Line& line);
    void failover(Line& line);
    void dropFlow(Line& line);
    void apply(Line& line, const reg::Action& action);
    void startTransaction(Line& line, std::string branch, std::string_view method, std::string bytes);
    void cancelTransaction(Line& line, std::string_view branch);
    void applyTxn(std::vector<txn::TxnAction>& actions);
    void drainDeferred();
    void pumpQueue();
    void armQueueTimer();
    void onStartTimer(uint64_t handle);
    void onLineTimer(uint64_t handle, reg::TimerKind kind);
    void onTxnTimer(txn::TxnId txn, txn::TimerKind kind);
    void countState(Line& line, reg::State now);
    void logStateChange(const Line& line, const reg::Action& action);
    Line* find(uint64_t handle);
    Line* findById(std::string_view id);
    const config::LineConfig* configFor(std::string_view id) const;
    Duration randomDelay(Duration max);
    void notifyStatus();

    ManagerSettings settings_;
    EnginePort& port_;
    TimerQueue& timers_;
    const Clock& clock_;
    crypto::RandomSource& random_;
    std::shared_ptr<spdlog::logger> log_;
    txn::TransactionLayer txn_;
    RateLimiter limiter_{50, 1};
    RequestGate requestGate_{[this](std::vector<txn::Peer>& out) { collectFirstHops(out); }};
    void indexConfig();

    config::Config config_;
    std::vector<std::unique_ptr<config::Config>> retiredConfigs_;
    std::unordered_map<std::string_view, const config::LineConfig*> configIndex_;  // ids of config_

    uint64_t nextHandle_ = 1;
    std::unordered_map<uint64_t, std::unique_ptr<Line>> lines_;
    std::unordered_map<std::string, uint64_t> byId_;  // active (non-retiring) lines
    std::size_t retiring_ = 0;
    bool stopping_ = false;

    std::unordered_map<uint64_t, TimerQueue::Id> txnTimers_;  // (txn << 3 | kind) -> slot
    std::deque<QueuedRequest> waiting_;
    TimerQueue::Id queueTimer_{};

    std::vector<reg::Action> actions_;
    std::vector<txn::TxnAction> txnActions_;
    std::vector<Deferred> deferred_;
    std::string flowCloseReason_;  // detail for transport errors delivered while a flow closes
    bool inDispatch_ = false;
    bool sweepNeeded_ = false;

    StateCounts counts_;
    ManagerCounters counters_;
    std::function<void(const StateCounts&)> statusListener_;
    std::function<void(const StateChangeEvent&)> stateListener_;
    std::function<void(const TraceEvent&)> traceListener_;
    LineStatus makeStatus(const Line& line, bool withHistory) const;
    void trace(const Line* line, bool outgoing, const txn::Peer& peer, std::string_view bytes);
};

}  // namespace sipreg::app
