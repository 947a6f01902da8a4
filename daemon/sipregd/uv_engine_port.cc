#include "uv_engine_port.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "app/line_settings_mapping.h"

namespace sipreg::daemon {

txn::Peer toPeer(const net::SocketAddress& address, txn::TransportKind transport, uint64_t flow) {
    txn::Peer p;
    p.port = address.port();
    p.transport = transport;
    p.flow = flow;
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

UvEnginePort::UvEnginePort(uv_loop_t* loop, net::UdpTransport& udp, net::UvTimerDriver& driver, const Clock& clock,
                           crypto::RandomSource& random, std::shared_ptr<spdlog::logger> log,
                           const config::DnsSettings& dns, net::StreamSettings streams)
    : udp_(udp),
      driver_(driver),
      random_(random),
      log_(log ? std::move(log) : spdlog::default_logger()),
      streams_(
          loop, streams,
          [this](uint64_t flow, std::string_view message, const net::SocketAddress& from) {
              const auto info = streams_.info(flow);
              const auto kind = info ? info->kind : txn::TransportKind::Tcp;
              if (listeners_.message) listeners_.message(message, toPeer(from, kind, flow));
          },
          [this](const net::StreamTransport::FlowEvent& e) {
              if (e.kind == net::StreamTransport::FlowEvent::Kind::Connected) {
                  log_->debug("flow {} to {} connected from {}", e.flow, e.remote.toString(), e.local.toString());
                  if (listeners_.flowConnected) listeners_.flowConnected(e.flow);
                  return;
              }
              if (e.wasConnected) {
                  log_->info("flow {} to {} closed: {}", e.flow, e.remote.toString(), e.reason);
              } else {
                  log_->warn("connection to {} failed: {}", e.remote.toString(), e.reason);
              }
              if (listeners_.flowClosed) listeners_.flowClosed(e.flow, e.reason);
          }) {
    auto resolver = net::SipResolver::create(loop, dns.servers, clock);
    if (!resolver) {
        resolverError_ = "DNS: " + resolver.error().message;
        return;
    }
    resolver_ = std::move(*resolver);
    resolver_->setReadyListener([this] {
        if (listeners_.resolved) listeners_.resolved();
    });
}

void UvEnginePort::close() {
    streams_.closeAll();
    resolver_.reset();
}

bool UvEnginePort::haveFamily(bool ipv6) const {
    const net::AddressFamily family = ipv6 ? net::AddressFamily::IPv6 : net::AddressFamily::IPv4;
    for (const auto& b : bound_) {
        if (b.family() == family) return true;
    }
    return false;
}

app::RouteLookup UvEnginePort::lookup(const app::RouteRequest& request, uint64_t knownGeneration) {
    net::ResolveRequest r;
    r.host = request.host;
    r.hostIsIpLiteral = request.hostIsIpLiteral;
    r.port = request.port;
    r.transport = request.transport;
    r.secure = request.secure;
    if (r.host == "localhost") {
        // Not a DNS name worth asking a server about (RFC 6761 6.3).
        r.host = "127.0.0.1";
        r.hostIsIpLiteral = true;
    }
    app::RouteLookup out;
    if (!resolver_) {
        out.error = resolverError_.empty() ? "DNS is shut down" : resolverError_;
        return out;
    }
    const net::SipResolver::Lookup found = resolver_->lookup(r);
    switch (found.status) {
        case net::SipResolver::Lookup::Status::Pending:
            out.status = app::RouteLookup::Status::Pending;
            return out;
        case net::SipResolver::Lookup::Status::Failed:
            out.status = app::RouteLookup::Status::Failed;
            out.error = found.error;
            return out;
        case net::SipResolver::Lookup::Status::Ready:
            break;
    }
    const std::string key = net::SipResolver::keyOf(r);
    Resolved& entry = resolved_[key];
    if (entry.set != found.set) {
        entry.set = found.set;
        entry.generation = nextGeneration_++;
        if (!r.hostIsIpLiteral) log_->debug("{} resolved: {}", request.host, dns::describe(*found.set));
    }
    out.status = app::RouteLookup::Status::Ready;
    out.generation = entry.generation;
    if (knownGeneration == entry.generation) return out;
    // UDP needs a socket of the address's family; streams open their own.
    const bool v4 = haveFamily(false), v6 = haveFamily(true);
    out.peers = dns::orderPeers(*found.set, random_, true, true);
    std::erase_if(out.peers, [&](const txn::Peer& p) {
        return p.transport == txn::TransportKind::Udp && !(p.ipv6 ? v6 : v4);
    });
    if (out.peers.empty()) {
        out.status = app::RouteLookup::Status::Failed;
        out.error = "no usable address (no listen address of that family): " + dns::describe(*found.set);
    }
    return out;
}

Result<std::shared_ptr<net::TlsContext>> UvEnginePort::tlsContextFor(const config::LineConfig& line) {
    const config::TlsSettings& t = line.tls;
    const std::string key = t.caFile + '\n' + t.caPath + '\n' + t.certFile + '\n' + t.keyFile + '\n' + t.ciphers +
                            '\n' + (t.verify ? "1" : "0");
    if (auto it = tlsContexts_.find(key); it != tlsContexts_.end()) return it->second;
    net::TlsClientOptions options;
    options.caFile = t.caFile;
    options.caPath = t.caPath;
    options.verify = t.verify;
    options.certFile = t.certFile;
    options.keyFile = t.keyFile;
    options.ciphers = t.ciphers;
    auto created = net::TlsContext::createClient(options);
    if (!created) return makeError("TLS settings of line " + line.id + ": " + created.error().message);
    tlsContexts_.emplace(key, *created);
    return *created;
}

Result<uint64_t> UvEnginePort::openFlow(const txn::Peer& peer, const config::LineConfig& line) {
    net::StreamTarget target;
    target.remote = toSocketAddress(peer);
    target.kind = peer.transport;
    if (peer.transport == txn::TransportKind::Tls) {
        auto context = tlsContextFor(line);
        if (!context) return context.error();
        target.tls = *context;
        target.verify = line.tls.verify;
        // RFC 5922 7.2: the identity to check is the domain the line was configured with,
        // not the SRV target's name nor the address it resolved to.
        const config::SipTarget& firstHop = line.outboundProxy ? *line.outboundProxy : line.registrar;
        target.serverName = !line.tls.serverName.empty() ? line.tls.serverName : firstHop.host;
    }
    auto flow = streams_.open(target);
    if (!flow) return flow.error();
    return *flow;
}

app::FlowState UvEnginePort::flowState(uint64_t flow) {
    app::FlowState st;
    const auto info = streams_.info(flow);
    if (!info) return st;
    if (!info->connected) {
        st.status = app::FlowState::Status::Connecting;
        return st;
    }
    st.status = app::FlowState::Status::Connected;
    st.local = app::LocalAddress{info->local.ip(), info->local.port()};
    return st;
}

void UvEnginePort::releaseFlow(uint64_t flow) { streams_.release(flow); }

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
    if (to.transport == txn::TransportKind::Udp) return udp_.send(toSocketAddress(to), bytes);
    if (to.flow == 0) return makeError("no connection to send on");
    return streams_.send(to.flow, bytes);
}

}  // namespace sipreg::daemon
