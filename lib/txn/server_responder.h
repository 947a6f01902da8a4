#pragma once
// Answers requests that reach our socket, so a registrar or proxy that probes us sees a
// well-behaved UA: OPTIONS and NOTIFY get 200 OK, INVITE gets a configurable final
// response with the RFC 3261 17.2.1 INVITE server transaction behaviour (Timer G
// retransmissions over UDP until the ACK, Timer H gives up, Timer I absorbs repeated
// ACKs), BYE and CANCEL without a matching transaction get 481, methods we know but do not
// serve get 405 with Allow, unknown methods 501. Retransmitted non-INVITE requests get the
// cached response again for Timer J (64*T1 on UDP). Requests missing a mandatory header
// get 400 when a response can be routed (a Via is readable), else they are dropped.
//
// Responses go back to the peer the request came from (the packet's source address and
// port, as RFC 3581 asks when rport is present); on UDP that is also right behind a NAT.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "sip/message.h"
#include "txn/txn_types.h"

namespace sipreg::txn {

// The methods we answer with something other than 405/501; REGISTER's Allow header uses
// the same list so what we advertise is what we do.
inline constexpr std::string_view kAllowedMethods = "INVITE, ACK, CANCEL, BYE, OPTIONS, NOTIFY";
// Option tags we honour. "path" (RFC 3327) only asks the registrar to return Path, which a
// UA may ignore; nothing else (outbound, gruu, 100rel) is implemented.
inline constexpr std::string_view kSupportedOptions = "path";

struct ResponderSettings {
    // Final response to INVITE; kept in 300..699 (anything else falls back to 480).
    int inviteStatus = 480;
    std::string inviteReason = "Temporarily Unavailable";
    std::string serverHeader;  // value of a Server header in our responses; empty: none
};

struct ServerCounters {
    uint64_t requests = 0;                  // requests answered with a new response
    uint64_t retransmissionsAnswered = 0;   // repeats answered from the cache
    uint64_t responseRetransmissions = 0;   // Timer G repeats of an INVITE's final response
    uint64_t acksAbsorbed = 0;              // ACKs that matched our INVITE response
    uint64_t acksDropped = 0;               // ACKs with no transaction
    uint64_t ackTimeouts = 0;               // Timer H fired: the ACK never came
    uint64_t badRequests = 0;               // answered 400
    uint64_t dropped = 0;                   // unreadable, no response possible
    uint64_t busy = 0;                      // dropped: kMaxServerTransactions in flight
};

// Answered requests are remembered for Timer J (32 s on UDP) to absorb retransmissions;
// this bounds the memory a flood can pin, whatever the rate limit upstream lets through.
inline constexpr std::size_t kMaxServerTransactions = 10'000;

class ServerResponder {
public:
    // `tagSeed` seeds the To-tag generator (give it random bits; tests give a constant).
    ServerResponder(ResponderSettings settings, TimerValues timers, uint64_t tagSeed);

    void onRequest(const sip::Message& request, const Peer& from, TimePoint now,
                   std::vector<TxnAction>& out);
    void onTimer(TxnId txn, TimerKind kind, TimePoint now, std::vector<TxnAction>& out);

    std::size_t size() const noexcept { return txns_.size(); }
    const ServerCounters& counters() const noexcept { return counters_; }

private:
    struct ServerTxn {
        TxnId id = 0;
        std::string key;
        bool invite = false;
        bool confirmed = false;     // INVITE: ACK received
        std::string response;
        Peer peer;
        Duration gInterval{};
        std::optional<TimePoint> g, h, i, j;
    };

    std::string newTag();
    void sendResponse(const ServerTxn& t, bool retransmission, std::vector<TxnAction>& out) const;
    void arm(ServerTxn& t, TimerKind kind, TimePoint at, std::vector<TxnAction>& out);
    void cancel(ServerTxn& t, TimerKind kind, std::vector<TxnAction>& out);
    void erase(TxnId id);

    ResponderSettings settings_;
    TimerValues timers_;
    uint64_t tagState_;
    TxnId nextId_ = 1;
    std::unordered_map<TxnId, ServerTxn> txns_;
    std::unordered_map<std::string, TxnId> byKey_;
    std::string scratch_;  // bytes of the last uncached response (see TxnAction::bytes)
    ServerCounters counters_;
};

}  // namespace sipreg::txn
