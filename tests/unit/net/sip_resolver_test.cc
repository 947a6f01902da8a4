// SipResolver: cache, TTLs, stale refresh and negative caching over a scripted DnsQuerier
// with a ManualClock; then end to end over DnsClient against a real dnsmasq.
#include <doctest/doctest.h>

#include <map>
#include <memory>
#include <utility>

#include "crypto/random_source.h"
#include "dns/dns_message.h"
#include "net/sip_resolver.h"
#include "net/uv_clock.h"
#include "unit/dns/dns_packet_builder.h"
#include "unit/net/dnsmasq_runner.h"
#include "unit/net/loop_fixture.h"

using namespace sipreg;
using namespace sipreg::net;
using sipreg::dns::testing::DnsPacketBuilder;
using sipreg::net::testing::DnsmasqRunner;
using sipreg::net::testing::LoopFixture;

namespace {

// Keeps every query until the test answers it, as a real client answers later from the loop.
class ScriptedDns final : public DnsQuerier {
public:
    struct Pending {
        std::string name;
        int type;
        Callback done;
    };
    void query(std::string name, int type, Callback done) override {
        pending.push_back(Pending{std::move(name), type, std::move(done)});
        ++total;
    }
    // Answers every pending query from `zone` (missing: NXDOMAIN), including the ones asked
    // while answering, within a bounded number of rounds.
    void answerAll(const std::map<std::pair<std::string, int>, std::vector<uint8_t>>& zone) {
        for (int round = 0; round < 10 && !pending.empty(); ++round) {
            auto batch = std::exchange(pending, {});
            for (auto& p : batch) {
                auto it = zone.find({p.name, p.type});
                if (it != zone.end()) {
                    p.done(it->second);
                } else {
                    p.done(DnsPacketBuilder()
                               .rcode(dns::kRcodeNxDomain)
                               .question(p.name, static_cast<uint16_t>(p.type))
                               .build());
                }
            }
        }
    }
    void failAll(const std::string& why) {
        for (int round = 0; round < 10 && !pending.empty(); ++round) {
            auto batch = std::exchange(pending, {});
            for (auto& p : batch) p.done(makeError(why));
        }
    }
    std::vector<Pending> pending;
    int total = 0;
};

using Zone = std::map<std::pair<std::string, int>, std::vector<uint8_t>>;

Zone portZone(const char* ip, uint32_t ttl) {
    Zone z;
    z[{"reg.example.test", dns::kTypeA}] = DnsPacketBuilder().a("reg.example.test", ip, ttl).build();
    return z;
}

ResolveRequest withPort(std::string host = "reg.example.test") {
    ResolveRequest r;
    r.host = std::move(host);
    r.port = 5060;
    return r;
}

std::string firstIp(const SipResolver::Lookup& l) {
    REQUIRE(l.set != nullptr);
    return dns::addressText(l.set->targets.at(0).addresses.at(0));
}

}  // namespace

TEST_CASE("an IP literal is ready at once, without DNS or the listener") {
    ScriptedDns dns;
    ManualClock clock;
    SipResolver resolver(dns, clock);
    int ready = 0;
    resolver.setReadyListener([&] { ++ready; });
    ResolveRequest r;
    r.host = "192.0.2.1";
    r.hostIsIpLiteral = true;
    r.port = 5070;
    const auto l = resolver.lookup(r);
    REQUIRE(l.status == SipResolver::Lookup::Status::Ready);
    CHECK(l.set->targets.at(0).port == 5070);
    CHECK(dns.total == 0);
    CHECK(ready == 0);
}

TEST_CASE("a name is pending until answered, asked once, then cached") {
    ScriptedDns dns;
    ManualClock clock;
    SipResolver resolver(dns, clock);
    int ready = 0;
    resolver.setReadyListener([&] { ++ready; });

    CHECK(resolver.lookup(withPort()).status == SipResolver::Lookup::Status::Pending);
    CHECK(resolver.lookup(withPort()).status == SipResolver::Lookup::Status::Pending);
    CHECK(dns.pending.size() == 2);  // A and AAAA, not twice
    CHECK(resolver.runningResolutions() == 1);

    dns.answerAll(portZone("192.0.2.10", 300));
    CHECK(ready == 1);
    const auto l = resolver.lookup(withPort());
    REQUIRE(l.status == SipResolver::Lookup::Status::Ready);
    CHECK(firstIp(l) == "192.0.2.10");
    CHECK(dns.total == 2);
    CHECK(resolver.counters().resolutions == 1);
    CHECK(resolver.counters().cacheHits == 1);
    CHECK(resolver.runningResolutions() == 0);
}

TEST_CASE("past its TTL the stale set is served while a refresh runs") {
    ScriptedDns dns;
    ManualClock clock;
    SipResolver resolver(dns, clock);
    (void)resolver.lookup(withPort());
    dns.answerAll(portZone("192.0.2.10", 60));
    const auto first = resolver.lookup(withPort());
    REQUIRE(first.status == SipResolver::Lookup::Status::Ready);

    clock.advance(std::chrono::seconds(59));
    CHECK(resolver.lookup(withPort()).set == first.set);
    CHECK(dns.pending.empty());

    clock.advance(std::chrono::seconds(1));
    const auto stale = resolver.lookup(withPort());
    REQUIRE(stale.status == SipResolver::Lookup::Status::Ready);
    CHECK(stale.set == first.set);
    CHECK(dns.pending.size() == 2);
    CHECK(resolver.counters().refreshes == 1);
    // A second lookup during the refresh starts nothing new.
    (void)resolver.lookup(withPort());
    CHECK(dns.pending.size() == 2);

    dns.answerAll(portZone("192.0.2.11", 60));
    const auto fresh = resolver.lookup(withPort());
    CHECK(fresh.set != first.set);
    CHECK(firstIp(fresh) == "192.0.2.11");
}

TEST_CASE("a failed refresh keeps the stale set and retries after the negative TTL") {
    ScriptedDns dns;
    ManualClock clock;
    SipResolver::Settings settings;
    settings.negativeTtl = std::chrono::seconds(30);
    SipResolver resolver(dns, clock, settings);
    (void)resolver.lookup(withPort());
    dns.answerAll(portZone("192.0.2.10", 10));
    clock.advance(std::chrono::seconds(10));
    (void)resolver.lookup(withPort());
    dns.failAll("timeout");
    CHECK(resolver.counters().failures == 1);

    const auto l = resolver.lookup(withPort());
    REQUIRE(l.status == SipResolver::Lookup::Status::Ready);
    CHECK(firstIp(l) == "192.0.2.10");
    CHECK(dns.pending.empty());
    clock.advance(std::chrono::seconds(30));
    (void)resolver.lookup(withPort());
    CHECK(dns.pending.size() == 2);
}

TEST_CASE("a failure is reported until the negative TTL passes, then retried") {
    ScriptedDns dns;
    ManualClock clock;
    SipResolver::Settings settings;
    settings.negativeTtl = std::chrono::seconds(30);
    SipResolver resolver(dns, clock, settings);
    int ready = 0;
    resolver.setReadyListener([&] { ++ready; });
    (void)resolver.lookup(withPort("nowhere.example.test"));
    dns.answerAll({});
    CHECK(ready == 1);

    auto l = resolver.lookup(withPort("nowhere.example.test"));
    REQUIRE(l.status == SipResolver::Lookup::Status::Failed);
    CHECK(l.error.find("no address for nowhere.example.test") != std::string::npos);
    CHECK(l.error.find("NXDOMAIN") != std::string::npos);
    clock.advance(std::chrono::seconds(29));
    CHECK(resolver.lookup(withPort("nowhere.example.test")).status == SipResolver::Lookup::Status::Failed);
    CHECK(dns.pending.empty());

    clock.advance(std::chrono::seconds(1));
    CHECK(resolver.lookup(withPort("nowhere.example.test")).status == SipResolver::Lookup::Status::Pending);
    CHECK(dns.pending.size() == 2);
}

TEST_CASE("TTL 0 is raised to the minimum TTL") {
    ScriptedDns dns;
    ManualClock clock;
    SipResolver::Settings settings;
    settings.minTtl = std::chrono::seconds(5);
    SipResolver resolver(dns, clock, settings);
    (void)resolver.lookup(withPort());
    dns.answerAll(portZone("192.0.2.10", 0));
    clock.advance(std::chrono::milliseconds(4999));
    (void)resolver.lookup(withPort());
    CHECK(dns.pending.empty());
    clock.advance(std::chrono::milliseconds(1));
    (void)resolver.lookup(withPort());
    CHECK(dns.pending.size() == 2);
}

TEST_CASE("a malformed response counts as a failed query") {
    ScriptedDns dns;
    ManualClock clock;
    SipResolver resolver(dns, clock);
    (void)resolver.lookup(withPort());
    Zone z;
    z[{"reg.example.test", dns::kTypeA}] = {1, 2, 3};
    z[{"reg.example.test", dns::kTypeAaaa}] = {1, 2, 3};
    dns.answerAll(z);
    const auto l = resolver.lookup(withPort());
    REQUIRE(l.status == SipResolver::Lookup::Status::Failed);
    CHECK(l.error.find("malformed DNS response") != std::string::npos);
}

TEST_CASE("keys separate port, transport, sips and ignore host case") {
    ResolveRequest a = withPort("Reg.Example.Test");
    ResolveRequest b = withPort("reg.example.test.");
    CHECK(SipResolver::keyOf(a) == SipResolver::keyOf(b));
    ResolveRequest c = b;
    c.port = 5070;
    CHECK(SipResolver::keyOf(c) != SipResolver::keyOf(b));
    ResolveRequest d = b;
    d.transport = txn::TransportKind::Tcp;
    CHECK(SipResolver::keyOf(d) != SipResolver::keyOf(b));
    ResolveRequest e = b;
    e.secure = true;
    CHECK(SipResolver::keyOf(e) != SipResolver::keyOf(b));
    ResolveRequest f = b;
    f.port.reset();
    CHECK(SipResolver::keyOf(f) != SipResolver::keyOf(b));
}

TEST_CASE("answers arriving after the resolver is gone are dropped") {
    ScriptedDns dns;
    ManualClock clock;
    {
        SipResolver resolver(dns, clock);
        resolver.setReadyListener([] { FAIL("listener of a destroyed resolver ran"); });
        (void)resolver.lookup(withPort());
    }
    REQUIRE(dns.pending.size() == 2);
    dns.answerAll(portZone("192.0.2.10", 60));  // must not touch the destroyed resolver
    CHECK(dns.pending.empty());
}

TEST_CASE("the listener may destroy the resolver") {
    ScriptedDns dns;
    ManualClock clock;
    auto resolver = std::make_unique<SipResolver>(dns, clock);
    (void)resolver->lookup(withPort("one.example.test"));
    (void)resolver->lookup(withPort("two.example.test"));
    int ready = 0;
    resolver->setReadyListener([&] {
        ++ready;
        resolver.reset();
    });
    dns.answerAll({});
    CHECK(ready == 1);
    CHECK(resolver == nullptr);
}

TEST_CASE("clear() drops finished entries and keeps running ones") {
    ScriptedDns dns;
    ManualClock clock;
    SipResolver resolver(dns, clock);
    (void)resolver.lookup(withPort());
    dns.answerAll(portZone("192.0.2.10", 60));
    (void)resolver.lookup(withPort("other.example.test"));
    CHECK(resolver.cachedEntries() == 2);
    resolver.clear();
    CHECK(resolver.cachedEntries() == 1);
    dns.answerAll({});
    CHECK(resolver.lookup(withPort("other.example.test")).status == SipResolver::Lookup::Status::Failed);
    CHECK(resolver.lookup(withPort()).status == SipResolver::Lookup::Status::Pending);
}

TEST_CASE("end to end: NAPTR, SRV and A/AAAA from dnsmasq") {
    DnsmasqRunner dnsmasq({
        "--host-record=a.example.test,127.0.0.1,::1",
        "--host-record=b.example.test,127.0.0.2",
        "--srv-host=_sip._tcp.example.test,a.example.test,5070,10,60",
        "--srv-host=_sip._tcp.example.test,b.example.test,5071,10,40",
        "--srv-host=_sip._udp.example.test,b.example.test,5072,10,10",
        "--naptr-record=example.test,10,10,s,SIP+D2T,,_sip._tcp.example.test",
        "--naptr-record=example.test,20,10,s,SIP+D2U,,_sip._udp.example.test",
        "--srv-host=_sip._tcp.noptr.example.test,b.example.test,5080,1,1",
    });
    REQUIRE(dnsmasq.ready());
    LoopFixture fx;
    {
        UvClock clock(&fx.loop);
        auto created = SipResolver::create(&fx.loop, {dnsmasq.serverV4()}, clock);
        REQUIRE(created.ok());
        SipResolver& resolver = **created;
        int ready = 0;
        resolver.setReadyListener([&] { ++ready; });

        ResolveRequest byDomain;
        byDomain.host = "example.test";
        ResolveRequest noNaptr;
        noNaptr.host = "noptr.example.test";
        CHECK(resolver.lookup(byDomain).status == SipResolver::Lookup::Status::Pending);
        CHECK(resolver.lookup(noNaptr).status == SipResolver::Lookup::Status::Pending);
        REQUIRE(fx.runUntil([&] { return ready == 2; }, "two resolutions"));

        const auto l = resolver.lookup(byDomain);
        REQUIRE(l.status == SipResolver::Lookup::Status::Ready);
        const auto& set = *l.set;
        REQUIRE(set.targets.size() == 3);
        CHECK(set.ttlSeconds == 120);
        CHECK(set.targets[0].transport == txn::TransportKind::Tcp);
        CHECK(set.targets[0].rank == 0);
        CHECK(set.targets[2].transport == txn::TransportKind::Udp);
        CHECK(set.targets[2].port == 5072);
        for (const auto& t : set.targets) {
            if (t.host == "a.example.test") {
                CHECK(t.port == 5070);
                REQUIRE(t.addresses.size() == 2);
                CHECK(dns::addressText(t.addresses[0]) == "127.0.0.1");
                CHECK(dns::addressText(t.addresses[1]) == "::1");
            }
        }

        // Lines spread over the two equal-priority TCP targets by weight (60/40) and always
        // try the UDP target (NAPTR order 20) last.
        crypto::DeterministicRandomSource random(21);
        int onA = 0;
        constexpr int kLines = 2000;
        for (int i = 0; i < kLines; ++i) {
            const auto peers = dns::orderPeers(set, random);
            REQUIRE(peers.size() == 4);
            CHECK(peers.back().transport == txn::TransportKind::Udp);
            if (peers.front().port == 5070) ++onA;
        }
        CHECK(onA == doctest::Approx(kLines * 0.6).epsilon(0.08));

        const auto n = resolver.lookup(noNaptr);
        REQUIRE(n.status == SipResolver::Lookup::Status::Ready);
        REQUIRE(n.set->targets.size() == 1);
        CHECK(n.set->targets[0].transport == txn::TransportKind::Tcp);
        CHECK(n.set->targets[0].port == 5080);
    }
    fx.finish();
}

TEST_CASE("end to end: an unknown domain fails with the steps named") {
    DnsmasqRunner dnsmasq({"--host-record=a.example.test,127.0.0.1"});
    REQUIRE(dnsmasq.ready());
    LoopFixture fx;
    {
        UvClock clock(&fx.loop);
        auto created = SipResolver::create(&fx.loop, {dnsmasq.serverV4()}, clock);
        REQUIRE(created.ok());
        SipResolver& resolver = **created;
        int ready = 0;
        resolver.setReadyListener([&] { ++ready; });
        ResolveRequest r;
        r.host = "missing.example.test";
        r.transport = txn::TransportKind::Udp;
        CHECK(resolver.lookup(r).status == SipResolver::Lookup::Status::Pending);
        REQUIRE(fx.runUntil([&] { return ready == 1; }, "resolution"));
        const auto l = resolver.lookup(r);
        REQUIRE(l.status == SipResolver::Lookup::Status::Failed);
        CHECK(l.error.find("SRV _sip._udp.missing.example.test: NXDOMAIN") != std::string::npos);
    }
    fx.finish();
}
