#pragma once
// The LineManager under test: a recording fake EnginePort (targets, flows, sends), a manual
// clock and a registrar stand-in that answers what was sent.
#include <doctest/doctest.h>

#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "app/line_manager.h"
#include "config/loader.h"
#include "crypto/random_source.h"
#include "sip/serializer.h"
#include "sip/typed_headers.h"

namespace sipreg::testing {

using namespace std::chrono_literals;


struct FakePort final : app::EnginePort {
    struct Sent {
        txn::Peer to;
        std::string bytes;
    };
    struct Flow {
        txn::Peer peer;
        app::FlowState::Status status = app::FlowState::Status::Connecting;
        int refs = 0;
        uint16_t localPort = 0;
    };
    std::vector<Sent> sent;
    std::set<std::string> unresolvable;
    std::set<std::string> pendingHosts;               // lookups answer Pending
    std::map<std::string, std::vector<txn::Peer>> dns;  // host -> targets in order
    uint64_t generation = 1;
    std::map<uint64_t, Flow> flows;
    uint64_t nextFlow = 1;
    bool connectAtOnce = true;
    std::set<uint16_t> refusedPorts;                  // openFlow fails at once
    int lookups = 0;

    static txn::Peer peerAt(uint16_t port, txn::TransportKind t = txn::TransportKind::Udp) {
        txn::Peer p;
        p.address = {127, 0, 0, 1};
        p.port = port;
        p.transport = t;
        return p;
    }
    app::RouteLookup lookup(const app::RouteRequest& r, uint64_t known) override {
        ++lookups;
        app::RouteLookup out;
        if (unresolvable.count(r.host) != 0) {
            out.status = app::RouteLookup::Status::Failed;
            out.error = "no such host " + r.host;
            return out;
        }
        if (pendingHosts.count(r.host) != 0) {
            out.status = app::RouteLookup::Status::Pending;
            return out;
        }
        out.status = app::RouteLookup::Status::Ready;
        out.generation = generation;
        if (known == generation) return out;
        if (auto it = dns.find(r.host); it != dns.end()) {
            out.peers = it->second;
        } else {
            out.peers.push_back(peerAt(r.port.value_or(5060), r.transport.value_or(txn::TransportKind::Udp)));
        }
        return out;
    }
    Result<uint64_t> openFlow(const txn::Peer& peer, const config::LineConfig&) override {
        if (refusedPorts.count(peer.port) != 0) return makeError("connect to port " + std::to_string(peer.port) + " refused");
        for (auto& [id, f] : flows) {
            if (f.peer == peer && f.status != app::FlowState::Status::Closed) {
                ++f.refs;
                return id;
            }
        }
        const uint64_t id = nextFlow++;
        Flow f;
        f.peer = peer;
        f.refs = 1;
        f.localPort = static_cast<uint16_t>(40000 + id);
        f.status = connectAtOnce ? app::FlowState::Status::Connected : app::FlowState::Status::Connecting;
        flows[id] = f;
        return id;
    }
    app::FlowState flowState(uint64_t flow) override {
        app::FlowState st;
        auto it = flows.find(flow);
        if (it == flows.end()) return st;
        st.status = it->second.status;
        st.local = app::LocalAddress{"127.0.0.1", it->second.localPort};
        return st;
    }
    void releaseFlow(uint64_t flow) override {
        if (auto it = flows.find(flow); it != flows.end()) --it->second.refs;
    }
    Result<app::LocalAddress> localAddressFor(const txn::Peer&) override {
        return app::LocalAddress{"127.0.0.1", 5070};
    }
    Result<void> send(const txn::Peer& to, std::string_view bytes) override {
        if (to.transport != txn::TransportKind::Udp) {
            auto it = flows.find(to.flow);
            if (it == flows.end() || it->second.status != app::FlowState::Status::Connected)
                return makeError("flow " + std::to_string(to.flow) + " is not connected");
        }
        sent.push_back(Sent{to, std::string(bytes)});
        return {};
    }
    void timersChanged() override {}
};

inline config::Config loadYaml(const std::string& yaml) {
    auto r = config::loadConfigString(yaml, "test.yaml");
    if (!r.ok()) {
        for (const auto& e : r.errors) MESSAGE(e.toString());
    }
    REQUIRE(r.ok());
    return *r.config;
}

inline std::string lines(int n, const std::string& extra = "") {
    std::string s;
    for (int i = 0; i < n; ++i) {
        s += "  - id: line" + std::to_string(i) + "\n"
             "    registrar: 127.0.0.1:5060\n"
             "    aor: sip:user" + std::to_string(i) + "@example.com\n" + extra;
    }
    return s;
}

inline std::string configText(int n, const std::string& global = "max_rate: 1000\nstart_spread: 0s\n",
                       const std::string& extra = "") {
    return "listen: { address: 127.0.0.1, port: 5070 }\n" + global +
           "defaults: { expires: 600, retry: { base: 2s, max: 60s } }\nlines:\n" + lines(n, extra);
}

struct Fixture {
    ManualClock clock;
    TimerQueue timers;
    FakePort port;
    crypto::DeterministicRandomSource random{42};
    std::shared_ptr<spdlog::logger> log =
        std::make_shared<spdlog::logger>("test", std::make_shared<spdlog::sinks::null_sink_mt>());
    app::LineManager manager{app::ManagerSettings{}, port, timers, clock, random, log};
    std::size_t answered = 0;

    void runFor(Duration d) {
        const TimePoint end = clock.now() + d;
        for (int guard = 0; guard < 1'000'000 && clock.now() < end; ++guard) {
            timers.runDue(clock.now());
            clock.advance(10ms);
        }
        timers.runDue(clock.now());
    }

    // Distinct requests (UDP retransmissions repeat the same bytes).
    std::vector<sip::Message> requestsSince(std::size_t from) const {
        std::vector<sip::Message> out;
        std::set<std::string> seen;
        for (std::size_t i = from; i < port.sent.size(); ++i) {
            if (!seen.insert(port.sent[i].bytes).second) continue;
            auto m = sip::parseDatagram(port.sent[i].bytes);
            if (m && m->isRequest()) out.push_back(std::move(*m));
        }
        return out;
    }

    // Answers every REGISTER sent since the last call the way a registrar would: 200 with
    // our Contact and the requested expiry (or the given status code).
    void answerAll(int code = 200, std::string reason = "OK") {
        const std::size_t end = port.sent.size();
        for (std::size_t i = answered; i < end; ++i) {
            auto m = sip::parseDatagram(port.sent[i].bytes);
            if (!m || !m->isRequest() || m->method() != "REGISTER") continue;
            std::vector<sip::OutHeader> extra;
            if (code == 200) {
                auto contacts = sip::contacts(*m).value();
                auto expires = sip::expires(*m).value().value_or(3600);
                if (expires > 0 && !contacts.empty()) {
                    extra.push_back({"Contact", "<" + std::string(contacts[0].address.uri.scheme) + ":" +
                                                    std::string(contacts[0].address.uri.user) + "@" +
                                                    contacts[0].address.uri.hostPort() +
                                                    ">;expires=" + std::to_string(expires)});
                }
            }
            auto response = sip::serialize(sip::makeResponse(*m, code, reason, "regtag", extra));
            txn::Peer from;
            from.address = {127, 0, 0, 1};
            from.port = 5060;
            manager.onDatagram(response, from);
        }
        answered = end;
    }
};

inline std::size_t countWithExpiresZero(const std::vector<sip::Message>& requests) {
    std::size_t n = 0;
    for (const auto& m : requests) {
        auto e = sip::expires(m);
        if (e && e->has_value() && **e == 0) ++n;
    }
    return n;
}

inline std::set<std::string> toUsers(const std::vector<sip::Message>& requests) {
    std::set<std::string> users;
    for (const auto& m : requests) users.insert(std::string(sip::toHeader(m).value().uri.user));
    return users;
}


}  // namespace sipreg::testing
