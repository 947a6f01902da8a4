#pragma once
// The LineManager's view of the network: RFC 3263 lookups through c-ares (cached, never
// blocking), UDP datagrams, shared TCP/TLS flows with one TLS context per distinct set of
// options, and our local address towards a UDP peer (asked of the kernel's routing table
// once per peer address). Asynchronous completions go to the handlers set with
// setListeners(), which the daemon points at the LineManager.
#include <spdlog/logger.h>

#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "app/engine_port.h"
#include "crypto/random_source.h"
#include "net/sip_resolver.h"
#include "net/socket_address.h"
#include "net/stream_transport.h"
#include "net/tls_context.h"
#include "net/udp_transport.h"
#include "net/uv_timer_driver.h"

namespace sipreg::daemon {

txn::Peer toPeer(const net::SocketAddress& address, txn::TransportKind transport = txn::TransportKind::Udp,
                 uint64_t flow = 0);
net::SocketAddress toSocketAddress(const txn::Peer& peer);

struct PortListeners {
    std::function<void()> resolved;
    std::function<void(uint64_t flow)> flowConnected;
    std::function<void(uint64_t flow, std::string_view reason)> flowClosed;
    std::function<void(std::string_view bytes, const txn::Peer& from)> message;
};

class UvEnginePort final : public app::EnginePort {
public:
    UvEnginePort(uv_loop_t* loop, net::UdpTransport& udp, net::UvTimerDriver& driver, const Clock& clock,
                 crypto::RandomSource& random, std::shared_ptr<spdlog::logger> log,
                 const config::DnsSettings& dns, net::StreamSettings streams = {});

    void setListeners(PortListeners listeners) { listeners_ = std::move(listeners); }
    // The addresses the UDP sockets are bound to (one per family).
    void setBound(std::vector<net::SocketAddress> bound) { bound_ = std::move(bound); }

    app::RouteLookup lookup(const app::RouteRequest& request, uint64_t knownGeneration) override;
    Result<uint64_t> openFlow(const txn::Peer& peer, const config::LineConfig& line) override;
    app::FlowState flowState(uint64_t flow) override;
    void releaseFlow(uint64_t flow) override;
    Result<app::LocalAddress> localAddressFor(const txn::Peer& peer) override;
    Result<void> send(const txn::Peer& to, std::string_view bytes) override;
    void timersChanged() override { driver_.rearm(); }

    const net::StreamTransport::Counters& streamCounters() const { return streams_.counters(); }
    // Why DNS could not be set up (bad server list, c-ares failure); empty when fine.
    const std::string& startupError() const noexcept { return resolverError_; }
    // Closes every connection and stops DNS: the loop can then finish.
    void close();

private:
    struct Resolved {
        std::shared_ptr<const dns::ResolvedSet> set;
        uint64_t generation = 0;
    };
    Result<std::shared_ptr<net::TlsContext>> tlsContextFor(const config::LineConfig& line);
    bool haveFamily(bool ipv6) const;

    net::UdpTransport& udp_;
    net::UvTimerDriver& driver_;
    crypto::RandomSource& random_;
    std::shared_ptr<spdlog::logger> log_;
    std::unique_ptr<net::SipResolver> resolver_;
    std::string resolverError_;
    net::StreamTransport streams_;
    PortListeners listeners_;
    std::vector<net::SocketAddress> bound_;
    std::unordered_map<std::string, std::string> routeCache_;  // peer ip -> our ip
    std::unordered_map<std::string, Resolved> resolved_;       // resolver key -> last set seen
    std::unordered_map<std::string, std::shared_ptr<net::TlsContext>> tlsContexts_;
    uint64_t nextGeneration_ = 1;
};

}  // namespace sipreg::daemon
