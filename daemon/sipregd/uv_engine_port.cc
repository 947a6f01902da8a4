#include "uv_engine_port.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace sipreg::daemon {

txn::Peer toPeer(const net::SocketAddress& address, txn::TransportKind transport) {
    txn::Peer p;
    p.port = address.port();
    p.transport = transport;
    const sockaddr* sa = address.sockaddrPtr();
    if (sa->sa_family == AF_INET6) {
        p.ipv6 = true;
        const auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
        std::memcpy(p.address.data(), &in6->sin6_addr, 16);
    } else {
        const auto* in4 = reinterpret_cast<const sockaddr_in*>(sa);
        std::memcpy(p.address.data(), &in4->sin_addr, 4);
    }
    return p;
}

net::SocketAddress toSocketAddress(const txn::Peer& peer) {
    sockaddr_storage storage{};
    if (peer.ipv6) {
        auto* in6 = reinterpret_cast<sockaddr_in6*>(&storage);
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(peer.port);
        std::memcpy(&in6->sin6_addr, peer.address.data(), 16);
    } else {
        auto* in4 = reinterpret_cast<sockaddr_in*>(&storage);
        in4->sin_family = AF_INET;
        in4->sin_port = htons(peer.port);
        std::memcpy(&in4->sin_addr, peer.address.data(), 4);
    }
    auto a = net::SocketAddress::fromSockaddr(reinterpret_cast<const sockaddr*>(&storage));
    return a ? *a : net::SocketAddress{};
}

Result<txn::Peer> UvEnginePort::resolve(const config::SipTarget& target, config::Transport transport) {
    if (transport != config::Transport::Udp) {
        return makeError(std::string("transport ") + std::string(config::toString(transport)) +
                         " is not available yet (UDP only)");
    }
    auto address = net::resolveLiteralHost(target.host, target.port.value_or(config::defaultPort(transport)));
    if (!address) return address.error();
    return toPeer(*address, txn::TransportKind::Udp);
}

Result<app::LocalAddress> UvEnginePort::localAddressFor(const txn::Peer& peer) {
    const net::AddressFamily family = peer.ipv6 ? net::AddressFamily::IPv6 : net::AddressFamily::IPv4;
    const net::SocketAddress* bound = nullptr;
    for (const auto& b : bound_) {
        if (b.family() == family) bound = &b;
    }
    if (bound == nullptr) {
        return makeError(std::string("no ") + net::familyName(family) + " listen address is configured");
    }
    if (!bound->isUnspecified()) return app::LocalAddress{bound->ip(), bound->port()};

    // Bound to the wildcard: ask the routing table which source address reaches the peer.
    // connect() on a UDP socket sends nothing.
    const net::SocketAddress remote = toSocketAddress(peer);
    const std::string key = remote.ip();
    if (auto it = routeCache_.find(key); it != routeCache_.end()) return app::LocalAddress{it->second, bound->port()};
    const int fd = ::socket(peer.ipv6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return makeError(std::string("socket: ") + std::strerror(errno));
    sockaddr_storage local{};
    socklen_t len = sizeof local;
    Result<app::LocalAddress> result = makeError("no route to " + remote.ip());
    if (::connect(fd, remote.sockaddrPtr(), remote.sockaddrLength()) == 0 &&
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len) == 0) {
        if (auto a = net::SocketAddress::fromSockaddr(reinterpret_cast<const sockaddr*>(&local))) {
            routeCache_[key] = a->ip();
            result = app::LocalAddress{a->ip(), bound->port()};
        }
    } else {
        result = makeError("no route to " + remote.ip() + ": " + std::strerror(errno));
    }
    ::close(fd);
    return result;
}

Result<void> UvEnginePort::send(const txn::Peer& to, std::string_view bytes) {
    return udp_.send(toSocketAddress(to), bytes);
}

}  // namespace sipreg::daemon
