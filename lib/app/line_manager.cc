#include "app/line_manager.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "app/line_settings_mapping.h"
#include "app/sip_log.h"
#include "sip/message.h"
#include "sip/typed_headers.h"

namespace sipreg::app {
namespace {

// Timer callbacks capture `this` and one 64-bit key so they fit std::function's inline
// storage: arming a refresh never allocates.
uint64_t timerKey(uint64_t id, uint64_t kind) { return (id << 3) | kind; }

bool onlyLineBreaks(std::string_view bytes) {
    return !bytes.empty() &&
           std::all_of(bytes.begin(), bytes.end(), [](char c) { return c == '\r' || c == '\n'; });
}

// A changed line whose binding identity is the same re-registers in place (the registrar
// updates the binding); otherwise the old binding is removed first, or it would linger.
bool sameBindingIdentity(const config::LineConfig& a, const config::LineConfig& b) {
    return a.aor == b.aor && a.registrar == b.registrar && a.contact == b.contact &&
           a.contactUser == b.contactUser && a.transport == b.transport && a.transportExplicit == b.transportExplicit &&
           a.outboundProxy == b.outboundProxy;
}

bool isIpv4Literal(std::string_view host) {
    int parts = 0;
    std::size_t digits = 0;
    for (char c : host) {
        if (c == '.') {
            if (digits == 0) return false;
            ++parts;
            digits = 0;
        } else if (c >= '0' && c <= '9') {
            if (++digits > 3) return false;
        } else {
            return false;
        }
    }
    return parts == 3 && digits > 0;
}

RouteRequest routeRequestFor(const config::LineConfig& cfg) {
    const config::SipTarget& firstHop = cfg.outboundProxy ? *cfg.outboundProxy : cfg.registrar;
    RouteRequest r;
    r.host = firstHop.host;
    r.hostIsIpLiteral = firstHop.hostIsIpv6 || isIpv4Literal(firstHop.host);
    r.port = firstHop.port;
    if (cfg.transportExplicit) r.transport = toTransportKind(cfg.transport);
    r.secure = firstHop.secure || cfg.registrar.secure;
    return r;
}

bool sameTarget(const txn::Peer& a, const txn::Peer& b) {
    return a.address == b.address && a.port == b.port && a.ipv6 == b.ipv6 && a.transport == b.transport;
}

// 20 ms worth of tokens: enough that timer granularity (1 ms) and loop turns never hold the
// rate below max_rate, small enough that no second ever sees more than max_rate * 1.02 + 1.
uint32_t transactionBurst(int maxRate) { return static_cast<uint32_t>(std::max(1, maxRate / 50)); }

std::string describePeer(const txn::Peer& p) {
    std::string out = std::string(txn::transportName(p.transport)) + " ";
    char buf[64];
    if (p.ipv6) {
        out += "[";
        for (int i = 0; i < 16; i += 2) {
            std::snprintf(buf, sizeof buf, "%x", (p.address[i] << 8) | p.address[i + 1]);
            out += buf;
            if (i < 14) out += ":";
        }
        out += "]";
    } else {
        std::snprintf(buf, sizeof buf, "%u.%u.%u.%u", p.address[0], p.address[1], p.address[2], p.address[3]);
        out += buf;
    }
    return out + ":" + std::to_string(p.port);
}

}  // namespace

LineManager::LineManager(ManagerSettings settings, EnginePort& port, TimerQueue& timers,
                         const Clock& clock, crypto::RandomSource& random,
                         std::shared_ptr<spdlog::logger> log)
    : settings_(std::move(settings)),
      port_(port),
      timers_(timers),
      clock_(clock),
      random_(random),
      log_(log ? std::move(log) : spdlog::default_logger()),
      txn_(settings_.timers, settings_.responder, [&random] {
          uint64_t seed = 0;
          random.fill(std::span<uint8_t>(reinterpret_cast<uint8_t*>(&seed), sizeof seed));
          return seed;
      }()) {
    queueTimer_ = timers_.create();
}

LineManager::~LineManager() {
    std::vector<uint64_t> handles;
    handles.reserve(lines_.size());
    for (const auto& [h, _] : lines_) handles.push_back(h);
    for (uint64_t h : handles) destroy(h);
    for (const auto& [_, id] : txnTimers_) timers_.destroy(id);
    timers_.destroy(queueTimer_);
}

// ---- configuration ----------------------------------------------------------------------

void LineManager::indexConfig() {
    configIndex_.clear();
    configIndex_.reserve(config_.lines.size());
    for (const config::LineConfig& cfg : config_.lines) configIndex_.emplace(cfg.id, &cfg);
}

void LineManager::start(config::Config config) {
    config_ = std::move(config);
    indexConfig();
    limiter_.setRate(static_cast<uint32_t>(std::max(1, config_.global.maxRate)), transactionBurst(config_.global.maxRate));
    requestGate_.configure(config_.global.requests);
    const Duration spread = std::chrono::duration_cast<Duration>(config_.global.startSpread);
    for (const config::LineConfig& cfg : config_.lines) {
        if (!cfg.enabled) continue;
        Line& line = createLine(cfg, true);
        scheduleStart(line, randomDelay(spread));
    }
    notifyStatus();
    port_.timersChanged();
}

config::ConfigDiff LineManager::reload(config::Config next) {
    config::ConfigDiff diff = config::diffConfigs(config_, next);
    std::unordered_map<std::string_view, const config::LineConfig*> nextIndex;
    for (const config::LineConfig& cfg : next.lines) nextIndex.emplace(cfg.id, &cfg);
    for (const std::string& id : diff.removed) {
        if (Line* line = findById(id)) retire(*line, true);
    }
    for (const std::string& id : diff.changed) {
        const config::LineConfig* before = configFor(id);
        auto found = nextIndex.find(id);
        const config::LineConfig* after = found == nextIndex.end() ? nullptr : found->second;
        if (Line* line = findById(id)) {
            const bool keepIdentity = before && after && after->enabled && sameBindingIdentity(*before, *after);
            retire(*line, !keepIdentity);
        }
    }
    // Retiring lines still point into the old configuration: keep it until they are gone.
    retiredConfigs_.push_back(std::make_unique<config::Config>(std::move(config_)));
    config_ = std::move(next);
    indexConfig();
    for (auto& [_, line] : lines_) {
        if (line->retiring || !line->machine) continue;
        if (const config::LineConfig* cfg = configFor(line->id)) line->cfg = cfg;
    }
    limiter_.setRate(static_cast<uint32_t>(std::max(1, config_.global.maxRate)), transactionBurst(config_.global.maxRate));
    requestGate_.configure(config_.global.requests);
    for (const config::LineConfig& cfg : config_.lines) {
        if (!cfg.enabled || byId_.count(cfg.id) != 0) continue;
        // Added, changed (its old self was retired above) or newly enabled.
        Line& line = createLine(cfg, true);
        scheduleStart(line, Duration{0});
    }
    drainDeferred();
    sweep();
    notifyStatus();
    port_.timersChanged();
    return diff;
}

void LineManager::stopAll() {
    stopping_ = true;
    std::vector<uint64_t> handles;
    handles.reserve(lines_.size());
    for (const auto& [h, _] : lines_) handles.push_back(h);
    for (uint64_t h : handles) {
        Line* line = find(h);
        if (line == nullptr) continue;
        timers_.cancel(line->startTimer);
        if (line->machine) dispatchRouted(*line, reg::Event::stop());
    }
    drainDeferred();
    sweep();
    port_.timersChanged();
}

bool LineManager::idle() const noexcept {
    return std::all_of(lines_.begin(), lines_.end(), [](const auto& entry) {
        const Line& line = *entry.second;
        return !line.machine || line.machine->state() == reg::State::Stopped;
    });
}

bool LineManager::refresh(std::string_view id) {
    Line* line = findById(id);
    if (line == nullptr) return false;
    if (line->machine) {
        timers_.cancel(line->startTimer);
        dispatchRouted(*line, line->machine->state() == reg::State::Stopped ? reg::Event::start()
                                                                            : reg::Event::refresh());
    } else {
        scheduleStart(*line, Duration{0});
    }
    drainDeferred();
    port_.timersChanged();
    return true;
}

// ---- lines -------------------------------------------------------------------------------

LineManager::Line& LineManager::createLine(const config::LineConfig& cfg, bool countIt) {
    auto owned = std::make_unique<Line>();
    Line& line = *owned;
    line.handle = nextHandle_++;
    line.id = cfg.id;
    lines_.emplace(line.handle, std::move(owned));
    byId_[line.id] = line.handle;
    if (countIt) {
        ++counts_.total;
        ++counts_[reg::State::Stopped];
        line.counted = reg::State::Stopped;
    }
    return line;
}

void LineManager::setupMachine(Line& line, const config::LineConfig& cfg) {
    // The machine starts with a placeholder address; prepareRoute() gives it the real one of
    // the flow before it sends anything.
    std::string error;
    const bool v6 = (cfg.outboundProxy ? *cfg.outboundProxy : cfg.registrar).hostIsIpv6;
    if (auto settings = toLineSettings(cfg, v6 ? "::" : "0.0.0.0", 0); !settings) {
        error = settings.error().message;
    } else if (auto machine = reg::RegistrationMachine::create(std::move(*settings), random_); !machine) {
        error = machine.error().message;
    } else {
        line.machine = std::move(*machine);
        line.cfg = &cfg;
        line.route = routeRequestFor(cfg);
        line.setupError.clear();
        return;
    }
    line.setupError = error;
    const Duration retry = std::chrono::duration_cast<Duration>(cfg.failedRetry);
    log_->error("line={} setup failed: {}; retry in {}", line.id, error, reg::formatDelay(retry));
    countState(line, reg::State::Failed);
    scheduleStart(line, retry);
}

void LineManager::scheduleStart(Line& line, Duration delay) {
    if (!line.startTimer.valid()) line.startTimer = timers_.create();
    timers_.arm(line.startTimer, clock_.now() + delay,
                [this, handle = line.handle](TimePoint) { onStartTimer(handle); });
}

void LineManager::retire(Line& line, bool unregister) {
    byId_.erase(line.id);
    if (!line.retiring) {
        --counts_.total;
        --counts_[line.counted];
        line.retiring = true;
        ++retiring_;
    }
    timers_.cancel(line.startTimer);
    if (unregister && line.machine && line.machine->state() != reg::State::Stopped) {
        dispatchRouted(line, reg::Event::stop());
    } else {
        line.machine.reset();  // nothing to undo at the registrar
    }
    sweepNeeded_ = true;
}

void LineManager::destroy(uint64_t handle) {
    auto it = lines_.find(handle);
    if (it == lines_.end()) return;
    Line& line = *it->second;
    std::vector<txn::TxnAction> out;
    for (const Pending& p : line.pending) txn_.client().abandon(p.txn, out);
    applyTxn(out);
    dropFlow(line);
    for (auto& t : line.timers) {
        if (t.valid()) timers_.destroy(t);
    }
    if (line.startTimer.valid()) timers_.destroy(line.startTimer);
    if (!line.targets.empty()) requestGate_.markStale();
    std::erase_if(waiting_, [handle](const QueuedRequest& q) { return q.handle == handle; });
    if (!line.retiring) {
        byId_.erase(line.id);
        --counts_.total;
        --counts_[line.counted];
    } else {
        --retiring_;
    }
    lines_.erase(it);
}

void LineManager::sweep() {
    if (retiring_ == 0 && !retiredConfigs_.empty()) retiredConfigs_.clear();
    if (!sweepNeeded_) return;
    sweepNeeded_ = false;
    std::vector<uint64_t> done;
    for (const auto& [h, line] : lines_) {
        if (line->retiring && (!line->machine || line->machine->state() == reg::State::Stopped)) done.push_back(h);
    }
    for (uint64_t h : done) destroy(h);
}

// ---- routing -----------------------------------------------------------------------------

LineManager::RouteStatus LineManager::prepareRoute(Line& line) {
    line.routeError.clear();
    line.waitingFor = WaitingFor::Nothing;
    const RouteLookup lookup = port_.lookup(line.route, line.routeGeneration);
    switch (lookup.status) {
        case RouteLookup::Status::Pending:
            line.waitingFor = WaitingFor::Dns;
            return RouteStatus::Waiting;
        case RouteLookup::Status::Failed:
            line.routeError = "cannot resolve " + line.route.host + ": " + lookup.error;
            return RouteStatus::Failed;
        case RouteLookup::Status::Ready:
            if (lookup.generation != line.routeGeneration || line.targets.empty()) {
                // A new answer (first lookup, or a TTL refresh): keep using the current target
                // if it is still listed, so a working registration does not move.
                std::optional<txn::Peer> current;
                if (!line.targets.empty()) current = line.targets[line.targetIndex % line.targets.size()];
                line.targets = lookup.peers;
                requestGate_.markStale();
                line.targetIndex = 0;
                for (std::size_t i = 0; current && i < line.targets.size(); ++i) {
                    if (sameTarget(line.targets[i], *current)) line.targetIndex = static_cast<uint32_t>(i);
                }
                line.routeGeneration = lookup.generation;
            }
            break;
    }
    if (line.targets.empty()) {
        line.routeError = "no address found for " + line.route.host;
        return RouteStatus::Failed;
    }
    const txn::Peer target = line.targets[line.targetIndex % line.targets.size()];
    if (target.transport == txn::TransportKind::Udp) {
        dropFlow(line);
        auto local = port_.localAddressFor(target);
        if (!local) {
            line.routeError = "no local address towards " + describePeer(target) + ": " + local.error().message;
            return RouteStatus::Failed;
        }
        line.peer = target;
        line.machine->setFlowAddress(target.transport, local->host, local->port);
        return RouteStatus::Ready;
    }
    if (line.flow != 0 && !sameTarget(line.peer, target)) dropFlow(line);
    if (line.flow == 0) {
        auto flow = port_.openFlow(target, *line.cfg);
        if (!flow) {
            line.routeError = flow.error().message;
            return RouteStatus::Failed;
        }
        line.flow = *flow;
        line.peer = target;
        line.peer.flow = line.flow;
    }
    const FlowState state = port_.flowState(line.flow);
    switch (state.status) {
        case FlowState::Status::Connected:
            line.peer = target;
            line.peer.flow = line.flow;
            line.machine->setFlowAddress(target.transport, state.local.host, state.local.port);
            return RouteStatus::Ready;
        case FlowState::Status::Connecting:
            line.waitingFor = WaitingFor::Flow;
            return RouteStatus::Waiting;
        case FlowState::Status::Closed:
            break;
    }
    dropFlow(line);
    line.routeError = "connection to " + describePeer(target) + " closed";
    return RouteStatus::Failed;
}

void LineManager::dropFlow(Line& line) {
    if (line.flow == 0) return;
    port_.releaseFlow(line.flow);
    line.flow = 0;
    line.peer.flow = 0;
}

void LineManager::dispatchRouted(Line& line, const reg::Event& event) {
    if (!line.machine) return;
    const bool quiet = line.machine->state() == reg::State::Stopped || line.machine->state() == reg::State::Unregistering;
    if (event.kind == reg::Event::Kind::Stop && quiet) {
        line.parked.reset();
        return;
    }
    if (prepareRoute(line) == RouteStatus::Waiting) {
        ParkedEvent parked{event.kind, event.timer, std::string(event.detail)};
        // A later event replaces a parked one, except that a stop is never forgotten.
        if (!line.parked || line.parked->kind != reg::Event::Kind::Stop) line.parked = std::move(parked);
        return;
    }
    line.parked.reset();
    // Failed: the machine still sees the event; whatever it sends fails with routeError
    // (startTransaction), which is an ordinary transport error to it: backoff, failover.
    dispatch(line, event);
}

void LineManager::resumeParked(Line& line) {
    if (!line.parked) return;
    ParkedEvent parked = std::move(*line.parked);
    line.parked.reset();
    reg::Event e = reg::Event::of(parked.kind);
    e.timer = parked.timer;
    e.detail = parked.detail;
    dispatchRouted(line, e);
}

void LineManager::failover(Line& line) {
    line.failoverDue = false;
    if (line.targets.size() < 2) return;
    const txn::Peer failed = line.targets[line.targetIndex % line.targets.size()];
    line.targetIndex = static_cast<uint32_t>((line.targetIndex + 1) % line.targets.size());
    dropFlow(line);
    ++line.failedInRound;
    const txn::Peer next = line.targets[line.targetIndex];
    if (line.failedInRound >= line.targets.size()) {
        // Every target failed once: the machine's backoff decides when the next round starts.
        line.failedInRound = 0;
        log_->info("line={} every target failed; next try on {} after the backoff", line.id, describePeer(next));
        return;
    }
    log_->info("line={} failing over from {} to {}", line.id, describePeer(failed), describePeer(next));
    dispatchRouted(line, reg::Event::refresh());
}

void LineManager::onResolved() {
    std::vector<uint64_t> handles;
    for (const auto& [h, line] : lines_) {
        if (line->waitingFor == WaitingFor::Dns) handles.push_back(h);
    }
    for (uint64_t h : handles) {
        if (Line* line = find(h); line && line->waitingFor == WaitingFor::Dns) resumeParked(*line);
    }
    drainDeferred();
    sweep();
    port_.timersChanged();
}

void LineManager::onFlowConnected(uint64_t flow) {
    std::vector<uint64_t> handles;
    for (const auto& [h, line] : lines_) {
        if (line->flow == flow && line->waitingFor == WaitingFor::Flow) handles.push_back(h);
    }
    for (uint64_t h : handles) {
        if (Line* line = find(h)) resumeParked(*line);
    }
    drainDeferred();
    sweep();
    port_.timersChanged();
}

void LineManager::onFlowClosed(uint64_t flow, std::string_view reason) {
    std::vector<uint64_t> handles;
    for (const auto& [h, line] : lines_) {
        if (line->flow == flow) handles.push_back(h);
    }
    const std::string_view cause = reason.empty() ? std::string_view("connection closed") : reason;
    for (uint64_t h : handles) {
        Line* line = find(h);
        if (line == nullptr || line->flow != flow) continue;
        // Name the peer: one connection serves many lines, and the operator reads per line.
        const std::string why = describePeer(line->peer) + ": " + std::string(cause);
        dropFlow(*line);
        // Transactions in flight on the flow fail now rather than at Timer F.
        std::vector<txn::TxnAction> out;
        for (const Pending& p : line->pending) txn_.client().onTransportError(p.txn, out);
        flowCloseReason_ = why;
        applyTxn(out);
        flowCloseReason_.clear();
        if (line->waitingFor == WaitingFor::Flow && line->parked) {
            // The connection never came up: the parked event meets a failed route.
            line->waitingFor = WaitingFor::Nothing;
            ParkedEvent parked = std::move(*line->parked);
            line->parked.reset();
            line->routeError = why;
            reg::Event e = reg::Event::of(parked.kind);
            e.timer = parked.timer;
            e.detail = parked.detail;
            dispatch(*line, e);
        } else if (line->machine && line->machine->state() == reg::State::Registered) {
            dispatchRouted(*line, reg::Event::flowLost(why));
        }
    }
    drainDeferred();
    sweep();
    port_.timersChanged();
}

// ---- events into machines ----------------------------------------------------------------

void LineManager::dispatch(Line& line, const reg::Event& event) {
    if (!line.machine) return;
    // The action list is reused; nothing below calls back into dispatch (transport
    // failures are deferred), so it is never clobbered mid-iteration.
    actions_.clear();
    line.machine->on(event, clock_.now(), actions_);
    for (const reg::Action& a : actions_) apply(line, a);
    if (line.failoverDue) failover(line);
}

void LineManager::apply(Line& line, const reg::Action& a) {
    switch (a.kind) {
        case reg::Action::Kind::SendRequest: {
            const bool exempt = a.purpose == reg::RequestPurpose::KeepAlive;
            if (exempt || (waiting_.empty() && limiter_.tryTake(clock_.now()))) {
                startTransaction(line, std::string(a.branch), a.method, a.bytes);
            } else {
                ++counters_.rateLimited;
                waiting_.push_back(QueuedRequest{line.handle, std::string(a.branch), std::string(a.method), a.bytes});
                armQueueTimer();
            }
            break;
        }
        case reg::Action::Kind::CancelRequest:
            cancelTransaction(line, a.branch);
            break;
        case reg::Action::Kind::SendKeepAlive:
            if (auto sent = port_.send(line.peer, a.bytes); !sent) {
                ++counters_.sendErrors;
                log_->debug("line={} keep-alive not sent: {}", line.id, sent.error().message);
            }
            break;
        case reg::Action::Kind::ArmTimer: {
            const uint64_t key = timerKey(line.handle, static_cast<uint64_t>(a.timer));
            TimerQueue::Id& slot = line.timers[static_cast<std::size_t>(a.timer)];
            if (!slot.valid()) slot = timers_.create();
            timers_.arm(slot, a.at,
                        [this, key](TimePoint) { onLineTimer(key >> 3, static_cast<reg::TimerKind>(key & 7)); });
            break;
        }
        case reg::Action::Kind::CancelTimer:
            if (line.timers[static_cast<std::size_t>(a.timer)].valid()) {
                timers_.cancel(line.timers[static_cast<std::size_t>(a.timer)]);
            }
            break;
        case reg::Action::Kind::StateChanged: {
            logStateChange(line, a);
            countState(line, a.to);
            StateChangeRecord record;
            record.at = clock_.now();
            record.wallSeconds = std::chrono::duration_cast<std::chrono::seconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count();
            record.from = a.from;
            record.to = a.to;
            record.statusCode = a.statusCode;
            record.text = a.text;
            if (line.history.size() >= kHistoryLength) line.history.erase(line.history.begin());
            line.history.push_back(std::move(record));
            if (stateListener_) {
                StateChangeEvent e;
                e.lineId = line.id;
                e.change = &line.history.back();
                e.reason = a.statusCode == line.lastCode ? std::string_view(line.lastReason) : std::string_view();
                e.retiring = line.retiring;
                stateListener_(e);
            }
            if (a.to == reg::State::Registered) line.failedInRound = 0;
            // RFC 3263 4.3: a timeout, a transport error or a 503 moves on to the next target.
            if (a.to == reg::State::Waiting && (a.statusCode == 0 || a.statusCode == 503) && !line.retiring &&
                !stopping_) {
                line.failoverDue = true;
            }
            if (line.retiring && a.to == reg::State::Stopped) sweepNeeded_ = true;
            break;
        }
        case reg::Action::Kind::Refreshed:
            if (log_->should_log(spdlog::level::debug)) log_->debug("line={} {}", line.id, reg::describe(a));
            break;
    }
}

void LineManager::startTransaction(Line& line, std::string branch, std::string_view method, std::string bytes) {
    if (!line.routeError.empty()) {
        log_->warn("line={} {} not sent: {}", line.id, method, line.routeError);
        deferred_.push_back(Deferred{line.handle, std::move(branch), false, line.routeError});
        return;
    }
    if (log_->should_log(spdlog::level::trace)) {
        log_->trace("line={} send {} bytes:\n{}", line.id, bytes.size(), redactForLog(bytes));
    }
    std::vector<txn::TxnAction> out;
    auto started = txn_.client().start(branch, method, std::move(bytes), line.peer, line.handle, clock_.now(), out);
    if (!started) {
        // A duplicate or empty branch is a bug in the caller; fail this attempt only.
        log_->error("line={} transaction not started: {}", line.id, started.error().message);
        deferred_.push_back(Deferred{line.handle, std::move(branch), false, {}});
        return;
    }
    line.pending.push_back(Pending{std::move(branch), *started});
    applyTxn(out);
}

void LineManager::cancelTransaction(Line& line, std::string_view branch) {
    auto it = std::find_if(line.pending.begin(), line.pending.end(),
                           [&](const Pending& p) { return p.branch == branch; });
    if (it != line.pending.end()) {
        std::vector<txn::TxnAction> out;
        txn_.client().abandon(it->txn, out);
        line.pending.erase(it);
        applyTxn(out);
        return;
    }
    std::erase_if(waiting_, [&](const QueuedRequest& q) { return q.handle == line.handle && q.branch == branch; });
}

void LineManager::applyTxn(std::vector<txn::TxnAction>& actions) {
    std::vector<txn::TxnId> failed;
    for (const txn::TxnAction& a : actions) {
        switch (a.kind) {
            case txn::TxnAction::Kind::Send:
                if (traceListener_) trace(a.owner != 0 ? find(a.owner) : nullptr, true, a.peer, a.bytes);
                if (auto sent = port_.send(a.peer, a.bytes); !sent) {
                    ++counters_.sendErrors;
                    log_->debug("send failed: {}", sent.error().message);
                    if (a.txn != 0 && txn_.client().contains(a.txn)) failed.push_back(a.txn);
                }
                break;
            case txn::TxnAction::Kind::ArmTimer: {
                const uint64_t key = timerKey(a.txn, static_cast<uint64_t>(a.timer));
                auto [it, inserted] = txnTimers_.try_emplace(key);
                if (inserted) it->second = timers_.create();
                timers_.arm(it->second, a.at,
                            [this, key](TimePoint) { onTxnTimer(key >> 3, static_cast<txn::TimerKind>(key & 7)); });
                break;
            }
            case txn::TxnAction::Kind::CancelTimer: {
                auto it = txnTimers_.find(timerKey(a.txn, static_cast<uint64_t>(a.timer)));
                if (it != txnTimers_.end()) {
                    timers_.destroy(it->second);
                    txnTimers_.erase(it);
                }
                break;
            }
            case txn::TxnAction::Kind::DeliverTimeout:
            case txn::TxnAction::Kind::DeliverTransportError: {
                Line* line = find(a.owner);
                if (line == nullptr) break;
                auto it = std::find_if(line->pending.begin(), line->pending.end(),
                                       [&](const Pending& p) { return p.txn == a.txn; });
                if (it == line->pending.end()) break;
                const bool timeout = a.kind == txn::TxnAction::Kind::DeliverTimeout;
                deferred_.push_back(Deferred{line->handle, std::move(it->branch), timeout,
                                             timeout ? describePeer(a.peer) : flowCloseReason_});
                line->pending.erase(it);
                break;
            }
        }
    }
    for (txn::TxnId id : failed) {
        std::vector<txn::TxnAction> more;
        txn_.client().onTransportError(id, more);
        applyTxn(more);
    }
}

void LineManager::drainDeferred() {
    // Bounded: each deferred event concerns a transaction that no longer exists, and a
    // machine reacting to it starts at most one new transaction.
    for (std::size_t rounds = 0; !deferred_.empty() && rounds < 16; ++rounds) {
        std::vector<Deferred> batch;
        batch.swap(deferred_);
        for (Deferred& d : batch) {
            Line* line = find(d.handle);
            if (line == nullptr) continue;
            if (line->machine && d.branch == line->machine->pendingBranch()) {
                line->lastCode = 0;
                line->lastReason = d.timeout ? "no response" : "transport error";
                if (!d.detail.empty()) line->lastReason.append(d.timeout ? " from " : ": ").append(d.detail);
            }
            dispatch(*line, d.timeout ? reg::Event::transactionTimeout(d.branch, d.detail)
                                      : reg::Event::transportError(d.branch, d.detail));
        }
    }
}

void LineManager::armQueueTimer() {
    if (waiting_.empty()) {
        timers_.cancel(queueTimer_);
        return;
    }
    const TimePoint at = limiter_.nextAvailable(clock_.now());
    timers_.arm(queueTimer_, at, [this](TimePoint) { pumpQueue(); });
}

void LineManager::pumpQueue() {
    while (!waiting_.empty() && limiter_.tryTake(clock_.now())) {
        QueuedRequest q = std::move(waiting_.front());
        waiting_.pop_front();
        if (Line* line = find(q.handle)) startTransaction(*line, std::move(q.branch), q.method, std::move(q.bytes));
    }
    armQueueTimer();
    drainDeferred();
    sweep();
}

void LineManager::onStartTimer(uint64_t handle) {
    Line* line = find(handle);
    if (line == nullptr || line->retiring || stopping_) return;
    if (!line->machine) {
        // First start, or a retry of a setup that failed (unresolvable registrar, ...).
        const config::LineConfig* cfg = configFor(line->id);
        if (cfg == nullptr) return;
        setupMachine(*line, *cfg);
    }
    if (line->machine) {
        // Started for good: the slot is only needed again if a later setup fails.
        timers_.destroy(line->startTimer);
        line->startTimer = {};
        if (line->machine->state() == reg::State::Stopped) dispatchRouted(*line, reg::Event::start());
    }
    drainDeferred();
    sweep();
}

void LineManager::onLineTimer(uint64_t handle, reg::TimerKind kind) {
    Line* line = find(handle);
    if (line == nullptr) return;
    dispatchRouted(*line, reg::Event::timerFired(kind));
    drainDeferred();
    sweep();
}

void LineManager::onTxnTimer(txn::TxnId txn, txn::TimerKind kind) {
    auto it = txnTimers_.find(timerKey(txn, static_cast<uint64_t>(kind)));
    if (it != txnTimers_.end()) {
        // A fired slot is not armed any more; free it so finished transactions leave nothing.
        timers_.destroy(it->second);
        txnTimers_.erase(it);
    }
    std::vector<txn::TxnAction> out;
    txn_.onTimer(txn, kind, clock_.now(), out);
    applyTxn(out);
    drainDeferred();
    sweep();
}

// ---- network input -----------------------------------------------------------------------

void LineManager::onDatagram(std::string_view bytes, const txn::Peer& from) {
    ++counters_.datagramsIn;
    if (onlyLineBreaks(bytes)) {
        ++counters_.keepAlivePings;
        return;
    }
    auto parsed = sip::parseDatagram(bytes);
    if (!parsed) {
        ++counters_.malformed;
        log_->debug("dropped malformed datagram ({} bytes): {}", bytes.size(), parsed.error().message);
        return;
    }
    const sip::Message& msg = *parsed;
    if (msg.isRequest()) {
        const auto verdict = requestGate_.admit(from, msg.method() == "ACK", txn_.server().size(), clock_.now());
        if (verdict != RequestGate::Verdict::Pass) {
            if (log_->should_log(spdlog::level::debug)) {
                log_->debug("dropped {} from {}: {}", msg.method(), describePeer(from),
                            verdict == RequestGate::Verdict::Stranger      ? "not a registrar (requests.answer_from)"
                            : verdict == RequestGate::Verdict::RateLimited ? "above requests.max_rate"
                                                                           : "too many answered requests pending");
            }
            return;
        }
    }
    if (log_->should_log(spdlog::level::trace)) {
        log_->trace("received {} bytes:\n{}", bytes.size(), redactForLog(msg.raw()));
    }
    if (traceListener_ && msg.isRequest()) trace(nullptr, false, from, msg.raw());
    std::vector<txn::TxnAction> out;
    auto in = txn_.onMessage(msg, from, clock_.now(), out);
    applyTxn(out);
    if (in.wasResponse) {
        using Outcome = txn::ClientTransactionTable::Match::Outcome;
        if (in.match.outcome == Outcome::Deliver) {
            if (Line* line = find(in.match.owner)) {
                if (traceListener_) trace(line, false, from, msg.raw());
                if (msg.statusCode() >= 200) {
                    auto p = std::find_if(line->pending.begin(), line->pending.end(),
                                          [&](const Pending& q) { return q.txn == in.match.txn; });
                    if (p != line->pending.end()) {
                        if (line->machine && p->branch == line->machine->pendingBranch()) {
                            line->lastCode = msg.statusCode();
                            if (line->lastReason != msg.reason()) line->lastReason.assign(msg.reason());
                        }
                        line->pending.erase(p);
                    }
                }
                dispatch(*line, reg::Event::responseReceived(msg));
            }
        } else if (in.match.outcome == Outcome::Stray) {
            if (traceListener_) trace(nullptr, false, from, msg.raw());
            ++counters_.strayResponses;
            log_->debug("stray response {} {} ignored", msg.statusCode(), msg.reason());
        }
    }
    drainDeferred();
    sweep();
    port_.timersChanged();
}

void LineManager::collectFirstHops(std::vector<txn::Peer>& out) const {
    for (const auto& [_, line] : lines_) out.insert(out.end(), line->targets.begin(), line->targets.end());
}

// ---- status ------------------------------------------------------------------------------

void LineManager::countState(Line& line, reg::State now) {
    if (line.retiring || line.counted == now) return;
    --counts_[line.counted];
    ++counts_[now];
    line.counted = now;
    notifyStatus();
}

void LineManager::notifyStatus() {
    if (statusListener_) statusListener_(counts_);
}

void LineManager::logStateChange(const Line& line, const reg::Action& a) {
    const auto level = (a.to == reg::State::Failed || a.to == reg::State::Waiting) ? spdlog::level::warn
                                                                                  : spdlog::level::info;
    log_->log(level, "line={}{} {} -> {}: {}", line.id, line.retiring ? " (retired)" : "",
              reg::stateName(a.from), reg::stateName(a.to), a.text);
}

std::optional<LineView> LineManager::line(std::string_view id) const {
    auto it = byId_.find(std::string(id));
    if (it == byId_.end()) return std::nullopt;
    const Line& l = *lines_.at(it->second);
    return LineView{l.id, l.machine ? l.machine->state() : l.counted, l.machine.get(), l.setupError};
}

void LineManager::forEachLine(const std::function<void(const LineView&)>& fn) const {
    for (const config::LineConfig& cfg : config_.lines) {
        if (auto v = line(cfg.id)) fn(*v);
    }
}

// ---- status for the outside ----------------------------------------------------------------

void LineManager::trace(const Line* line, bool outgoing, const txn::Peer& peer, std::string_view bytes) {
    const std::string redacted = redactForLog(bytes);
    const std::string where = describePeer(peer);
    TraceEvent e;
    e.lineId = line != nullptr ? std::string_view(line->id) : std::string_view();
    e.outgoing = outgoing;
    e.peer = where;
    e.bytes = redacted;
    traceListener_(e);
}

LineStatus LineManager::makeStatus(const Line& line, bool withHistory) const {
    LineStatus st;
    st.id = line.id;
    st.state = line.machine ? line.machine->state() : line.counted;
    st.setupError = line.setupError;
    const config::LineConfig* cfg = line.cfg != nullptr ? line.cfg : configFor(line.id);
    if (cfg != nullptr) {
        st.registrar = cfg->registrar.uri;
        if (cfg->outboundProxy) st.outboundProxy = cfg->outboundProxy->uri;
        st.transport = cfg->transportExplicit ? std::string(config::toString(cfg->transport)) : "dns";
    }
    if (!line.targets.empty()) {
        const txn::Peer& p = line.targets[line.targetIndex % line.targets.size()];
        st.target = describePeer(p);
        std::string t(txn::transportName(p.transport));
        for (char& c : t) c = static_cast<char>(c - 'A' + 'a');
        st.transport = t;
    }
    st.lastStatusCode = line.lastCode;
    st.lastReason = line.lastReason;
    if (!line.history.empty()) st.lastChange = line.history.back();
    if (withHistory) st.history = line.history;
    const TimePoint now = clock_.now();
    if (line.machine) {
        const reg::RegistrationMachine& m = *line.machine;
        st.grantedSeconds = m.lastGranted().count();
        if (auto until = m.bindingExpiresAt(); until && *until > now) st.expiresIn = *until - now;
        st.consecutiveFailures = m.consecutiveFailures();
        st.counters = m.counters();
        const std::pair<reg::TimerKind, const char*> next[] = {{reg::TimerKind::Refresh, "refresh"},
                                                               {reg::TimerKind::Retry, "retry"}};
        for (const auto& [kind, name] : next) {
            if (auto at = m.timerAt(kind)) {
                st.nextActionIn = std::max(Duration{0}, *at - now);
                st.nextAction = name;
            }
        }
    }
    if (!st.nextActionIn && line.startTimer.valid()) {
        if (auto at = timers_.deadline(line.startTimer)) {
            st.nextActionIn = std::max(Duration{0}, *at - now);
            st.nextAction = "start";
        }
    }
    return st;
}

std::optional<LineStatus> LineManager::status(std::string_view id) const {
    auto it = byId_.find(std::string(id));
    if (it == byId_.end()) return std::nullopt;
    return makeStatus(*lines_.at(it->second), true);
}

std::vector<LineStatus> LineManager::statusAll(bool withHistory) const {
    std::vector<LineStatus> out;
    out.reserve(byId_.size());
    for (const config::LineConfig& cfg : config_.lines) {
        auto it = byId_.find(cfg.id);
        if (it == byId_.end()) continue;
        out.push_back(makeStatus(*lines_.at(it->second), withHistory));
    }
    return out;
}

std::size_t LineManager::refreshAll() {
    std::vector<std::string> ids;
    ids.reserve(byId_.size());
    for (const auto& [id, _] : byId_) ids.push_back(id);
    std::size_t n = 0;
    for (const std::string& id : ids) n += refresh(id) ? 1 : 0;
    return n;
}

LineManager::Line* LineManager::find(uint64_t handle) {
    auto it = lines_.find(handle);
    return it == lines_.end() ? nullptr : it->second.get();
}

LineManager::Line* LineManager::findById(std::string_view id) {
    auto it = byId_.find(std::string(id));
    return it == byId_.end() ? nullptr : find(it->second);
}

const config::LineConfig* LineManager::configFor(std::string_view id) const {
    auto it = configIndex_.find(id);
    return it == configIndex_.end() ? nullptr : it->second;
}

Duration LineManager::randomDelay(Duration max) {
    if (max.count() <= 0) return Duration{0};
    uint64_t r = 0;
    random_.fill(std::span<uint8_t>(reinterpret_cast<uint8_t*>(&r), sizeof r));
    return Duration{static_cast<int64_t>(r % static_cast<uint64_t>(max.count()))};
}

}  // namespace sipreg::app
