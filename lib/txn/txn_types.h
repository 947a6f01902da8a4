#pragma once
// Vocabulary shared by the client and server transaction code: where a message goes, the
// RFC 3261 timer values, and the actions the transaction layer asks its caller to perform.
#include <array>
#include <cstdint>
#include <string_view>

#include "util/clock.h"

namespace sipreg::txn {

enum class TransportKind : uint8_t { Udp, Tcp, Tls };

constexpr bool isReliable(TransportKind t) noexcept { return t != TransportKind::Udp; }
// "UDP", "TCP", "TLS" as written in a Via header.
std::string_view transportName(TransportKind t) noexcept;

// A resolved network peer, kept as plain bytes so this layer stays free of socket types.
// The caller converts to and from its own address type.
struct Peer {
    std::array<uint8_t, 16> address{};  // IPv4 uses the first 4 bytes
    uint16_t port = 0;
    bool ipv6 = false;
    TransportKind transport = TransportKind::Udp;
    uint64_t flow = 0;                  // connection id on stream transports; 0 on UDP
    bool operator==(const Peer&) const = default;
};

// RFC 3261 17.1.1.1 / table 4 defaults.
struct TimerValues {
    Duration t1{500};
    Duration t2{4000};
    Duration t4{5000};
    Duration timeout() const noexcept { return t1 * 64; }  // Timers B, F, H, J
};

using TxnId = uint64_t;  // never reused within a layer's life

enum class TimerKind : uint8_t {
    E,  // client non-INVITE: request retransmission (UDP)
    F,  // client non-INVITE: transaction timeout
    K,  // client non-INVITE: wait for response retransmissions in Completed
    G,  // server INVITE: final response retransmission (UDP)
    H,  // server INVITE: give up waiting for the ACK
    I,  // server INVITE: absorb ACK retransmissions in Confirmed
    J,  // server non-INVITE: answer request retransmissions from the cache
};
std::string_view timerName(TimerKind k) noexcept;
constexpr bool isClientTimer(TimerKind k) noexcept {
    return k == TimerKind::E || k == TimerKind::F || k == TimerKind::K;
}

struct TxnAction {
    enum class Kind : uint8_t {
        Send,                   // put `bytes` on the wire to `peer`
        ArmTimer,               // (re)arm timer (txn, timer) at `at`; replaces a pending one
        CancelTimer,            // drop timer (txn, timer) if pending
        DeliverTimeout,         // client txn `txn` of `owner` got no final response (Timer F)
        DeliverTransportError,  // client txn `txn` of `owner` failed to send
    };
    Kind kind = Kind::Send;
    TxnId txn = 0;
    uint64_t owner = 0;           // client transactions: the cookie given at start
    TimerKind timer = TimerKind::E;
    TimePoint at{};
    // Views into storage owned by the layer: valid until the next call into the layer.
    std::string_view bytes;
    std::string_view branch;      // client transactions: the request's Via branch
    Peer peer;
    bool retransmission = false;  // Send: a repeat of bytes already sent
};

}  // namespace sipreg::txn
