#pragma once
// What the LineManager needs from the world outside the sans-I/O core: name resolution,
// our local address towards a peer, and a way to put bytes on the wire. The daemon
// implements it over libuv; tests implement it with a recording fake.
#include <cstdint>
#include <string>
#include <string_view>

#include "config/model.h"
#include "txn/txn_types.h"
#include "util/result.h"

namespace sipreg::app {

struct LocalAddress {
    std::string host;  // IPv6 without brackets
    uint16_t port = 0;
};

class EnginePort {
public:
    virtual ~EnginePort() = default;
    // Where a line's requests go (its outbound proxy or its registrar), as a peer.
    virtual Result<txn::Peer> resolve(const config::SipTarget& target, config::Transport transport) = 0;
    // Our address as the peer will see it before any NAT: Via sent-by and Contact.
    virtual Result<LocalAddress> localAddressFor(const txn::Peer& peer) = 0;
    virtual Result<void> send(const txn::Peer& to, std::string_view bytes) = 0;
    // Deadlines in the shared TimerQueue changed outside a timer callback.
    virtual void timersChanged() = 0;
};

}  // namespace sipreg::app
