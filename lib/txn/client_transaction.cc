#include "txn/client_transaction.h"

#include <algorithm>
#include <utility>

namespace sipreg::txn {

ClientTransaction::ClientTransaction(TxnId id, uint64_t owner, std::string branch,
                                     std::string method, std::string request, const Peer& to,
                                     const TimerValues& timers)
    : id_(id), owner_(owner), branch_(std::move(branch)), method_(std::move(method)),
      request_(std::move(request)), to_(to), timers_(timers), interval_(timers.t1) {}

std::optional<TimePoint>& ClientTransaction::slot(TimerKind kind) noexcept {
    switch (kind) {
        case TimerKind::E: return e_;
        case TimerKind::F: return f_;
        default: return k_;
    }
}

void ClientTransaction::arm(TimerKind kind, TimePoint at, std::vector<TxnAction>& out) {
    slot(kind) = at;
    TxnAction a;
    a.kind = TxnAction::Kind::ArmTimer;
    a.txn = id_;
    a.owner = owner_;
    a.branch = branch_;
    a.timer = kind;
    a.at = at;
    out.push_back(a);
}

void ClientTransaction::cancel(TimerKind kind, std::vector<TxnAction>& out) {
    auto& s = slot(kind);
    if (!s) return;
    s.reset();
    TxnAction a;
    a.kind = TxnAction::Kind::CancelTimer;
    a.txn = id_;
    a.owner = owner_;
    a.branch = branch_;
    a.timer = kind;
    out.push_back(a);
}

void ClientTransaction::send(bool retransmission, std::vector<TxnAction>& out) const {
    TxnAction a;
    a.kind = TxnAction::Kind::Send;
    a.txn = id_;
    a.owner = owner_;
    a.branch = branch_;
    a.bytes = request_;
    a.peer = to_;
    a.retransmission = retransmission;
    out.push_back(a);
}

void ClientTransaction::start(TimePoint now, std::vector<TxnAction>& out) {
    send(false, out);
    if (!isReliable(to_.transport)) arm(TimerKind::E, now + interval_, out);
    arm(TimerKind::F, now + timers_.timeout(), out);
}

ClientTransaction::Verdict ClientTransaction::onResponse(int statusCode, TimePoint now,
                                                         std::vector<TxnAction>& out) {
    if (state_ == State::Completed || state_ == State::Terminated) return Verdict::Absorb;
    if (statusCode < 200) {
        // 17.1.2.2: in Proceeding, retransmit every T2 instead of backing off further.
        if (state_ == State::Trying) state_ = State::Proceeding;
        return Verdict::Deliver;
    }
    cancel(TimerKind::E, out);
    cancel(TimerKind::F, out);
    if (isReliable(to_.transport)) {
        state_ = State::Terminated;
    } else {
        state_ = State::Completed;
        arm(TimerKind::K, now + timers_.t4, out);
    }
    return Verdict::Deliver;
}

void ClientTransaction::onTimer(TimerKind kind, TimePoint now, std::vector<TxnAction>& out) {
    auto& s = slot(kind);
    if (!s || *s > now) return;
    s.reset();
    switch (kind) {
        case TimerKind::E:
            if (state_ != State::Trying && state_ != State::Proceeding) return;
            send(true, out);
            ++retransmissions_;
            interval_ = state_ == State::Trying ? std::min(interval_ * 2, timers_.t2) : timers_.t2;
            arm(TimerKind::E, now + interval_, out);
            return;
        case TimerKind::F: {
            if (state_ != State::Trying && state_ != State::Proceeding) return;
            cancel(TimerKind::E, out);
            state_ = State::Terminated;
            TxnAction a;
            a.kind = TxnAction::Kind::DeliverTimeout;
            a.txn = id_;
            a.owner = owner_;
            a.branch = branch_;
            a.peer = to_;  // who never answered, for the log
            out.push_back(a);
            return;
        }
        case TimerKind::K:
            state_ = State::Terminated;
            return;
        default:
            return;
    }
}

void ClientTransaction::onTransportError(std::vector<TxnAction>& out) {
    if (state_ == State::Terminated) return;
    const bool waiting = state_ == State::Trying || state_ == State::Proceeding;
    abandon(out);
    if (!waiting) return;  // the final response was already delivered
    TxnAction a;
    a.kind = TxnAction::Kind::DeliverTransportError;
    a.txn = id_;
    a.owner = owner_;
    a.branch = branch_;
    out.push_back(a);
}

void ClientTransaction::abandon(std::vector<TxnAction>& out) {
    cancel(TimerKind::E, out);
    cancel(TimerKind::F, out);
    cancel(TimerKind::K, out);
    state_ = State::Terminated;
}

}  // namespace sipreg::txn
