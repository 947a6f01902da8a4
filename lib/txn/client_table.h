#pragma once
// The client transactions in flight, keyed by the branch of the request's top Via.
// Responses are matched per RFC 3261 17.1.3: top Via branch AND CSeq method.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "sip/message.h"
#include "txn/client_transaction.h"
#include "util/result.h"

namespace sipreg::txn {

struct ClientCounters {
    uint64_t started = 0;
    uint64_t retransmissions = 0;       // Timer E repeats sent
    uint64_t timeouts = 0;              // Timer F fired
    uint64_t transportErrors = 0;
    uint64_t responsesDelivered = 0;
    uint64_t responsesAbsorbed = 0;     // retransmitted finals caught in Completed
    uint64_t strayResponses = 0;        // no transaction matched (or unreadable Via/CSeq)
};

class ClientTransactionTable {
public:
    explicit ClientTransactionTable(TimerValues timers = {}) : timers_(timers) {}

    // Starts a transaction for an already serialized request whose top Via carries
    // `branch`. `owner` is an opaque cookie handed back in every action and match.
    // Fails when the branch is empty or already in use.
    Result<TxnId> start(std::string branch, std::string_view method, std::string request,
                        const Peer& to, uint64_t owner, TimePoint now,
                        std::vector<TxnAction>& out);

    struct Match {
        enum class Outcome : uint8_t { Deliver, Absorbed, Stray };
        Outcome outcome = Outcome::Stray;
        TxnId txn = 0;
        uint64_t owner = 0;
    };
    // Deliver: hand the response to `owner`. Absorbed: a retransmission, drop it.
    // Stray: nothing matched (counted; the caller may log it at debug level).
    Match onResponse(const sip::Message& response, TimePoint now, std::vector<TxnAction>& out);

    void onTimer(TxnId txn, TimerKind kind, TimePoint now, std::vector<TxnAction>& out);
    // Sending failed (unreachable, connection refused or reset).
    void onTransportError(TxnId txn, std::vector<TxnAction>& out);
    // The owner no longer cares (line removed): cancels timers, reports nothing.
    void abandon(TxnId txn, std::vector<TxnAction>& out);

    // The transaction carrying `branch` (e.g. to abandon a request its owner superseded).
    std::optional<TxnId> findByBranch(std::string_view branch) const noexcept;
    bool contains(TxnId txn) const noexcept { return byId_.count(txn) != 0; }
    std::size_t size() const noexcept { return byId_.size(); }
    const ClientCounters& counters() const noexcept { return counters_; }
    const TimerValues& timerValues() const noexcept { return timers_; }

private:
    using Map = std::unordered_map<TxnId, ClientTransaction>;
    void eraseIfTerminated(Map::iterator it);
    // Terminated transactions stay here until the next call, so the views in the actions
    // that reported their end (branch) remain valid while the caller handles them.
    void releaseRetired() noexcept { retired_.clear(); }

    TimerValues timers_;
    TxnId nextId_ = 1;
    Map byId_;
    std::vector<Map::node_type> retired_;
    std::unordered_map<std::string_view, TxnId> byBranch_;  // views into the transactions
    ClientCounters counters_;
};

}  // namespace sipreg::txn
