#pragma once
// The LineManager's view of the network, over the daemon's UDP transport: literal
// addresses, our local address towards a peer (asked of the kernel's routing table once
// per peer address), and datagrams out.
#include <string>
#include <unordered_map>
#include <vector>

#include "app/engine_port.h"
#include "net/socket_address.h"
#include "net/udp_transport.h"
#include "net/uv_timer_driver.h"

namespace sipreg::daemon {

txn::Peer toPeer(const net::SocketAddress& address, txn::TransportKind transport = txn::TransportKind::Udp);
net::SocketAddress toSocketAddress(const txn::Peer& peer);

class UvEnginePort final : public app::EnginePort {
public:
    UvEnginePort(net::UdpTransport& udp, net::UvTimerDriver& driver) : udp_(udp), driver_(driver) {}

    // The addresses the UDP sockets are bound to (one per family).
    void setBound(std::vector<net::SocketAddress> bound) { bound_ = std::move(bound); }

    Result<txn::Peer> resolve(const config::SipTarget& target, config::Transport transport) override;
    Result<app::LocalAddress> localAddressFor(const txn::Peer& peer) override;
    Result<void> send(const txn::Peer& to, std::string_view bytes) override;
    void timersChanged() override { driver_.rearm(); }

private:
    net::UdpTransport& udp_;
    net::UvTimerDriver& driver_;
    std::vector<net::SocketAddress> bound_;
    std::unordered_map<std::string, std::string> routeCache_;  // peer ip -> our ip
};

}  // namespace sipreg::daemon
