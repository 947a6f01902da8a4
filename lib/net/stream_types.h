#pragma once
// The values shared by the stream transport and its connections: where a flow goes, how it
// is timed and bounded, and what it counts.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "net/socket_address.h"
#include "txn/txn_types.h"
#include "util/clock.h"

namespace sipreg::net {

class TlsContext;

struct StreamTarget {
    SocketAddress remote;
    txn::TransportKind kind = txn::TransportKind::Tcp;  // Tcp or Tls
    // TLS only (ignored for Tcp, also in the sharing key): the context, the name sent as
    // SNI and checked against the peer certificate, and whether verification is on.
    std::shared_ptr<TlsContext> tls;
    std::string serverName;
    bool verify = true;
};

struct StreamSettings {
    // Bounds TCP connect plus, for TLS, the handshake.
    Duration connectTimeout{5000};
    // RFC 5626 keep-alive: a "\r\n\r\n" ping after this long without receiving anything
    // (0 disables it), answered by a "\r\n" pong within pongTimeout or the flow is dead.
    Duration keepaliveIdle{30000};
    Duration pongTimeout{10000};
    // A message that began arriving must be complete within this: a peer trickling bytes
    // would otherwise hold the flow (and every line on it) forever while looking alive.
    Duration stalledMessageTimeout{20000};
    // Per target: the first failed connect blocks new attempts for the minimum, each
    // further consecutive failure doubles the wait up to the maximum; a connect resets it.
    Duration reconnectBackoffMin{1000};
    Duration reconnectBackoffMax{60000};
    // Bytes accepted by send() but not yet taken by the kernel, per flow.
    std::size_t maxQueuedBytes = 4 << 20;
    // How long a flow nobody holds any more stays open (a user coming back reuses it).
    Duration unusedLinger{30000};
};

struct StreamCounters {
    uint64_t connectAttempts = 0;
    uint64_t connects = 0;         // flows that became usable (TCP connected, TLS handshake done)
    uint64_t connectFailures = 0;  // refused, timed out, failed handshake, closed before usable
    uint64_t connectsRefusedByBackoff = 0;  // open() calls turned away during a backoff
    uint64_t closed = 0;           // flows closed for any reason (one per flow)
    uint64_t bytesIn = 0;          // on the socket (ciphertext for TLS)
    uint64_t bytesOut = 0;
    uint64_t messagesIn = 0;
    uint64_t pingsSent = 0;
    uint64_t pongsReceived = 0;
    uint64_t pingsAnswered = 0;
    uint64_t keepaliveFailures = 0;  // flows closed for a missing pong
    uint64_t stalledMessages = 0;    // flows closed for a message left incomplete too long
    uint64_t framingErrors = 0;
    uint64_t writeErrors = 0;
    uint64_t sendsOverLimit = 0;   // send() calls refused by maxQueuedBytes
    uint64_t tlsFailures = 0;      // handshakes or records the TLS layer refused
};

}  // namespace sipreg::net
