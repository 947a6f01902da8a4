#pragma once
// What the LineManager needs from the world outside the sans-I/O core: name resolution
// (RFC 3263, possibly asynchronous), connections on stream transports, our local address
// towards a peer, and a way to put bytes on the wire. The daemon implements it over libuv
// and c-ares; tests implement it with a recording fake.
//
// Asynchronous completions come back through the LineManager: onResolved() when a lookup
// that answered Pending has finished, onFlowConnected()/onFlowClosed() for connections.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/model.h"
#include "txn/txn_types.h"
#include "util/result.h"

namespace sipreg::app {

struct LocalAddress {
    std::string host;  // IPv6 without brackets
    uint16_t port = 0;
};

// Where a line's requests go, before DNS: its outbound proxy or its registrar.
struct RouteRequest {
    std::string host;                               // IPv6 without brackets
    bool hostIsIpLiteral = false;
    std::optional<uint16_t> port;                   // nullopt: SRV or the default port
    std::optional<txn::TransportKind> transport;    // nullopt: NAPTR decides (RFC 3263 4.1)
    bool secure = false;                            // sips:
};

struct RouteLookup {
    enum class Status : uint8_t { Ready, Pending, Failed };
    Status status = Status::Failed;
    // Ready: identifies the resolved set. Equal to the caller's known generation when the set
    // has not changed since; `peers` is then left empty (nothing to reorder).
    uint64_t generation = 0;
    // Ready with a new generation: the targets in the order this caller should try them
    // (RFC 2782 weighting is applied per call, so lines spread over equal-priority targets).
    std::vector<txn::Peer> peers;
    std::string error;  // Failed
};

struct FlowState {
    enum class Status : uint8_t { Connecting, Connected, Closed };
    Status status = Status::Closed;
    LocalAddress local;  // Connected
};

class EnginePort {
public:
    virtual ~EnginePort() = default;
    virtual RouteLookup lookup(const RouteRequest& request, uint64_t knownGeneration) = 0;
    // The shared connection towards a TCP/TLS peer for this line (its TLS settings), opened
    // if needed; the line holds a reference until releaseFlow(). Fails at once when the
    // peer is in its connect backoff.
    virtual Result<uint64_t> openFlow(const txn::Peer& peer, const config::LineConfig& line) = 0;
    virtual FlowState flowState(uint64_t flow) = 0;
    virtual void releaseFlow(uint64_t flow) = 0;
    // Our address as a UDP peer will see it before any NAT: Via sent-by and Contact.
    virtual Result<LocalAddress> localAddressFor(const txn::Peer& peer) = 0;
    // UDP when peer.transport is Udp, else over the connection peer.flow.
    virtual Result<void> send(const txn::Peer& to, std::string_view bytes) = 0;
    // Deadlines in the shared TimerQueue changed outside a timer callback.
    virtual void timersChanged() = 0;
};

}  // namespace sipreg::app
