#pragma once
// RFC 3261 17.1.2 non-INVITE client transaction (figure 6). Over UDP the request is
// retransmitted on Timer E (T1, doubling up to T2; T2 once a provisional arrived), Timer F
// (64*T1) ends the wait, and Timer K (T4) keeps the transaction in Completed so response
// retransmissions are absorbed. Reliable transports: no retransmissions, F still bounds the
// wait, K is zero.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "txn/txn_types.h"

namespace sipreg::txn {

class ClientTransaction {
public:
    enum class State : uint8_t { Trying, Proceeding, Completed, Terminated };
    enum class Verdict : uint8_t { Deliver, Absorb };

    ClientTransaction(TxnId id, uint64_t owner, std::string branch, std::string method,
                      std::string request, const Peer& to, const TimerValues& timers);

    // Sends the request and arms E (UDP) and F.
    void start(TimePoint now, std::vector<TxnAction>& out);
    // A response whose top Via branch and CSeq method matched this transaction.
    Verdict onResponse(int statusCode, TimePoint now, std::vector<TxnAction>& out);
    // Ignores a timer that is not pending or not yet due (a stale queue entry).
    void onTimer(TimerKind kind, TimePoint now, std::vector<TxnAction>& out);
    void onTransportError(std::vector<TxnAction>& out);
    // The owner lost interest: cancel every pending timer, report nothing.
    void abandon(std::vector<TxnAction>& out);

    State state() const noexcept { return state_; }
    TxnId id() const noexcept { return id_; }
    uint64_t owner() const noexcept { return owner_; }
    const std::string& branch() const noexcept { return branch_; }
    const std::string& method() const noexcept { return method_; }
    const std::string& requestBytes() const noexcept { return request_; }
    unsigned retransmissions() const noexcept { return retransmissions_; }

    // The request's Call-ID and CSeq number, which every response must echo (RFC 3261
    // 8.2.6.2): a response carrying our branch with another dialog's identity answers none of
    // our requests. Unset (empty Call-ID): not checked.
    void setIdentity(std::string callId, uint32_t cseq) {
        callId_ = std::move(callId);
        cseq_ = cseq;
    }
    bool echoesIdentity(std::string_view callId, uint32_t cseq) const noexcept {
        return callId_.empty() || (callId == callId_ && cseq == cseq_);
    }

private:
    void arm(TimerKind kind, TimePoint at, std::vector<TxnAction>& out);
    void cancel(TimerKind kind, std::vector<TxnAction>& out);
    void send(bool retransmission, std::vector<TxnAction>& out) const;
    std::optional<TimePoint>& slot(TimerKind kind) noexcept;

    TxnId id_;
    uint64_t owner_;
    std::string branch_;
    std::string method_;
    std::string request_;
    Peer to_;
    TimerValues timers_;
    State state_ = State::Trying;
    Duration interval_{};  // current Timer E interval
    std::optional<TimePoint> e_, f_, k_;
    unsigned retransmissions_ = 0;
    std::string callId_;
    uint32_t cseq_ = 0;
};

}  // namespace sipreg::txn
