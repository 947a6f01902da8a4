#include <doctest/doctest.h>

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "dns/sip_resolution.h"
#include "unit/dns/dns_packet_builder.h"

using namespace sipreg;
using namespace sipreg::dns;
using sipreg::dns::testing::DnsPacketBuilder;
using txn::TransportKind;

namespace {

// A zone for the state machine: answers by (name, type); anything unknown is NXDOMAIN;
// questions listed in `failures` get no response at all.
struct FakeZone {
    std::map<std::pair<std::string, uint16_t>, DnsPacketBuilder> answers;
    std::map<std::pair<std::string, uint16_t>, std::string> failures;
    std::vector<DnsQuestion> asked;

    DnsPacketBuilder& at(const std::string& name, uint16_t type) {
        auto& b = answers[{name, type}];
        return b;
    }

    void drive(SipResolution& r) {
        for (int round = 0; round < 20 && !r.done(); ++round) {
            const auto qs = r.takeQueries();
            REQUIRE_FALSE(qs.empty());  // a machine that is not done must be waiting for something
            for (const DnsQuestion& q : qs) {
                asked.push_back(q);
                const auto key = std::make_pair(q.name, q.type);
                if (auto f = failures.find(key); f != failures.end()) {
                    r.onFailure(q, f->second);
                } else if (auto a = answers.find(key); a != answers.end()) {
                    r.onAnswer(q, a->second.parsed());
                } else {
                    r.onAnswer(q, DnsPacketBuilder().rcode(kRcodeNxDomain).question(q.name, q.type).parsed());
                }
            }
        }
        REQUIRE(r.done());
    }

    bool wasAsked(const std::string& name, uint16_t type) const {
        for (const auto& q : asked) {
            if (q.name == name && q.type == type) return true;
        }
        return false;
    }
};

ResolutionInput named(std::string host) {
    ResolutionInput in;
    in.host = std::move(host);
    return in;
}

std::string ip(const ResolvedAddress& a) { return addressText(a); }

}  // namespace

TEST_CASE("IP literals need no DNS") {
    SUBCASE("IPv4, defaults to UDP 5060") {
        ResolutionInput in = named("192.0.2.1");
        in.hostIsIpLiteral = true;
        SipResolution r(in);
        REQUIRE(r.done());
        CHECK(r.takeQueries().empty());
        REQUIRE(r.result().ok());
        const auto& t = r.result()->targets.at(0);
        CHECK(t.transport == TransportKind::Udp);
        CHECK(t.port == 5060);
        CHECK(ip(t.addresses.at(0)) == "192.0.2.1");
    }
    SUBCASE("bracketed IPv6 with a port and transport") {
        ResolutionInput in = named("[2001:db8::5]");
        in.hostIsIpLiteral = true;
        in.port = 5999;
        in.transport = TransportKind::Tcp;
        SipResolution r(in);
        REQUIRE(r.result().ok());
        const auto& t = r.result()->targets.at(0);
        CHECK(t.transport == TransportKind::Tcp);
        CHECK(t.port == 5999);
        CHECK(t.addresses.at(0).ipv6);
        CHECK(ip(t.addresses.at(0)) == "2001:db8::5");
    }
    SUBCASE("sips: TLS on 5061") {
        ResolutionInput in = named("::1");
        in.secure = true;
        SipResolution r(in);  // recognised as a literal even without the flag
        REQUIRE(r.result().ok());
        CHECK(r.result()->targets.at(0).transport == TransportKind::Tls);
        CHECK(r.result()->targets.at(0).port == 5061);
    }
    SUBCASE("a name flagged as literal is an error") {
        ResolutionInput in = named("example.test");
        in.hostIsIpLiteral = true;
        SipResolution r(in);
        REQUIRE(r.done());
        REQUIRE_FALSE(r.result().ok());
        CHECK(r.result().error().message.find("not an IP address") != std::string::npos);
    }
}

TEST_CASE("an explicit port skips NAPTR and SRV") {
    FakeZone zone;
    zone.at("reg.example.test", kTypeA).a("reg.example.test", "192.0.2.10", 100);
    zone.at("reg.example.test", kTypeAaaa).aaaa("reg.example.test", "2001:db8::10", 40);
    ResolutionInput in = named("reg.example.test");
    in.port = 5080;
    SipResolution r(in);
    zone.drive(r);
    REQUIRE(zone.asked.size() == 2);
    CHECK(zone.wasAsked("reg.example.test", kTypeA));
    CHECK(zone.wasAsked("reg.example.test", kTypeAaaa));
    REQUIRE(r.result().ok());
    const auto& set = *r.result();
    REQUIRE(set.targets.size() == 1);
    CHECK(set.targets[0].transport == TransportKind::Udp);
    CHECK(set.targets[0].port == 5080);
    REQUIRE(set.targets[0].addresses.size() == 2);
    CHECK(ip(set.targets[0].addresses[0]) == "192.0.2.10");  // IPv4 first
    CHECK(ip(set.targets[0].addresses[1]) == "2001:db8::10");
    CHECK(set.ttlSeconds == 40);
}

TEST_CASE("explicit port on a sips: URI means TLS") {
    FakeZone zone;
    zone.at("reg.example.test", kTypeA).a("reg.example.test", "192.0.2.10");
    ResolutionInput in = named("reg.example.test");
    in.port = 5081;
    in.secure = true;
    SipResolution r(in);
    zone.drive(r);
    REQUIRE(r.result().ok());
    CHECK(r.result()->targets.at(0).transport == TransportKind::Tls);
    CHECK(r.result()->targets.at(0).port == 5081);
}

TEST_CASE("a transport without a port asks that transport's SRV") {
    FakeZone zone;
    zone.at("_sip._tcp.example.test", kTypeSrv)
        .srv("_sip._tcp.example.test", 10, 60, 5070, "a.example.test", 600)
        .srv("_sip._tcp.example.test", 20, 0, 5071, "b.example.test", 900);
    zone.at("a.example.test", kTypeA).a("a.example.test", "192.0.2.1", 300);
    zone.at("b.example.test", kTypeAaaa).aaaa("b.example.test", "2001:db8::2", 200);
    ResolutionInput in = named("example.test");
    in.transport = TransportKind::Tcp;
    SipResolution r(in);
    zone.drive(r);
    CHECK_FALSE(zone.wasAsked("example.test", kTypeNaptr));
    CHECK_FALSE(zone.wasAsked("_sip._udp.example.test", kTypeSrv));
    REQUIRE(r.result().ok());
    const auto& set = *r.result();
    REQUIRE(set.targets.size() == 2);
    CHECK(set.targets[0].host == "a.example.test");
    CHECK(set.targets[0].transport == TransportKind::Tcp);
    CHECK(set.targets[0].priority == 10);
    CHECK(set.targets[0].weight == 60);
    CHECK(set.targets[0].port == 5070);
    CHECK(ip(set.targets[0].addresses.at(0)) == "192.0.2.1");
    CHECK(set.targets[1].port == 5071);
    CHECK(set.targets[1].addresses.at(0).ipv6);
    CHECK(set.ttlSeconds == 200);
}

TEST_CASE("without SRV records the host's A/AAAA with the default port") {
    SUBCASE("tcp -> 5060") {
        FakeZone zone;
        zone.at("example.test", kTypeA).a("example.test", "192.0.2.3", 60);
        ResolutionInput in = named("example.test");
        in.transport = TransportKind::Tcp;
        SipResolution r(in);
        zone.drive(r);
        CHECK(zone.wasAsked("_sip._tcp.example.test", kTypeSrv));
        REQUIRE(r.result().ok());
        CHECK(r.result()->targets.at(0).port == 5060);
        CHECK(r.result()->targets.at(0).transport == TransportKind::Tcp);
        CHECK(r.result()->ttlSeconds == 60);
    }
    SUBCASE("tls -> _sips._tcp then 5061") {
        FakeZone zone;
        zone.at("example.test", kTypeA).a("example.test", "192.0.2.3");
        ResolutionInput in = named("example.test");
        in.transport = TransportKind::Tls;
        SipResolution r(in);
        zone.drive(r);
        CHECK(zone.wasAsked("_sips._tcp.example.test", kTypeSrv));
        REQUIRE(r.result().ok());
        CHECK(r.result()->targets.at(0).port == 5061);
        CHECK(r.result()->targets.at(0).transport == TransportKind::Tls);
    }
    SUBCASE("sips with transport=tcp is TLS") {
        FakeZone zone;
        zone.at("example.test", kTypeA).a("example.test", "192.0.2.3");
        ResolutionInput in = named("example.test");
        in.transport = TransportKind::Tcp;
        in.secure = true;
        SipResolution r(in);
        zone.drive(r);
        CHECK(zone.wasAsked("_sips._tcp.example.test", kTypeSrv));
        REQUIRE(r.result().ok());
        CHECK(r.result()->targets.at(0).transport == TransportKind::Tls);
    }
}

TEST_CASE("sips over UDP is refused") {
    ResolutionInput in = named("example.test");
    in.transport = TransportKind::Udp;
    in.secure = true;
    SipResolution r(in);
    REQUIRE(r.done());
    REQUIRE_FALSE(r.result().ok());
    CHECK(r.result().error().message.find("UDP") != std::string::npos);
}

TEST_CASE("NAPTR picks the supported SIP services in order and preference") {
    FakeZone zone;
    zone.at("example.test", kTypeNaptr)
        .naptr("example.test", 50, 10, "s", "SIP+D2U", "", "_sip._udp.example.test", 3600)
        .naptr("example.test", 10, 20, "s", "SIP+D2T", "", "_sip._tcp.example.test", 1800)
        .naptr("example.test", 10, 10, "s", "SIP+D2S", "", "_sip._sctp.example.test")  // SCTP: not ours
        .naptr("example.test", 5, 10, "u", "E2U+sip", "!^.*$!sip:x@y!", "")              // ENUM-style
        .naptr("example.test", 20, 10, "S", "SIPS+D2T", "", "_sips._tcp.example.test", 7200);
    zone.at("_sip._tcp.example.test", kTypeSrv).srv("_sip._tcp.example.test", 1, 1, 5070, "t.example.test");
    zone.at("_sip._udp.example.test", kTypeSrv).srv("_sip._udp.example.test", 1, 1, 5060, "u.example.test");
    zone.at("_sips._tcp.example.test", kTypeSrv).srv("_sips._tcp.example.test", 1, 1, 5061, "s.example.test");
    zone.at("t.example.test", kTypeA).a("t.example.test", "192.0.2.20");
    zone.at("u.example.test", kTypeA).a("u.example.test", "192.0.2.21");
    zone.at("s.example.test", kTypeA).a("s.example.test", "192.0.2.22");
    SipResolution r(named("example.test"));
    zone.drive(r);
    CHECK_FALSE(zone.wasAsked("_sip._sctp.example.test", kTypeSrv));
    REQUIRE(r.result().ok());
    const auto& set = *r.result();
    REQUIRE(set.targets.size() == 3);
    CHECK(set.targets[0].transport == TransportKind::Tcp);
    CHECK(set.targets[0].rank == 0);
    CHECK(set.targets[1].transport == TransportKind::Tls);
    CHECK(set.targets[1].rank == 1);
    CHECK(set.targets[2].transport == TransportKind::Udp);
    CHECK(set.targets[2].rank == 2);
    CHECK(set.ttlSeconds == 300);  // the SRV/A records' default, below every NAPTR TTL

    // orderPeers keeps the NAPTR ranking even against SRV priorities.
    crypto::DeterministicRandomSource random(1);
    const auto peers = orderPeers(set, random);
    REQUIRE(peers.size() == 3);
    CHECK(peers[0].transport == TransportKind::Tcp);
    CHECK(peers[2].transport == TransportKind::Udp);
}

TEST_CASE("NAPTR TTL bounds the set's TTL") {
    FakeZone zone;
    zone.at("example.test", kTypeNaptr).naptr("example.test", 1, 1, "s", "SIP+D2U", "", "_sip._udp.example.test", 45);
    zone.at("_sip._udp.example.test", kTypeSrv).srv("_sip._udp.example.test", 1, 1, 5060, "u.example.test", 900);
    zone.at("u.example.test", kTypeA).a("u.example.test", "192.0.2.21", 900);
    SipResolution r(named("example.test"));
    zone.drive(r);
    REQUIRE(r.result().ok());
    CHECK(r.result()->ttlSeconds == 45);
}

TEST_CASE("a sips: URI keeps only SIPS+D2T from NAPTR") {
    FakeZone zone;
    zone.at("example.test", kTypeNaptr)
        .naptr("example.test", 1, 1, "s", "SIP+D2U", "", "_sip._udp.example.test")
        .naptr("example.test", 2, 1, "s", "SIPS+D2T", "", "_sips._tcp.example.test");
    zone.at("_sip._udp.example.test", kTypeSrv).srv("_sip._udp.example.test", 1, 1, 5060, "u.example.test");
    zone.at("_sips._tcp.example.test", kTypeSrv).srv("_sips._tcp.example.test", 1, 1, 5061, "s.example.test");
    zone.at("u.example.test", kTypeA).a("u.example.test", "192.0.2.21");
    zone.at("s.example.test", kTypeA).a("s.example.test", "192.0.2.22");
    ResolutionInput in = named("example.test");
    in.secure = true;
    SipResolution r(in);
    zone.drive(r);
    CHECK_FALSE(zone.wasAsked("_sip._udp.example.test", kTypeSrv));
    REQUIRE(r.result().ok());
    REQUIRE(r.result()->targets.size() == 1);
    CHECK(r.result()->targets[0].transport == TransportKind::Tls);
}

TEST_CASE("without NAPTR the three SRV names are asked, TLS first") {
    FakeZone zone;
    zone.at("_sip._udp.example.test", kTypeSrv).srv("_sip._udp.example.test", 1, 1, 5062, "u.example.test");
    zone.at("_sip._tcp.example.test", kTypeSrv).srv("_sip._tcp.example.test", 1, 1, 5063, "t.example.test");
    zone.at("u.example.test", kTypeA).a("u.example.test", "192.0.2.21");
    zone.at("t.example.test", kTypeA).a("t.example.test", "192.0.2.23");
    SipResolution r(named("example.test"));
    zone.drive(r);
    REQUIRE(zone.asked.size() >= 4);
    CHECK(zone.asked[0] == DnsQuestion{"example.test", kTypeNaptr});
    CHECK(zone.asked[1] == DnsQuestion{"_sips._tcp.example.test", kTypeSrv});
    CHECK(zone.asked[2] == DnsQuestion{"_sip._tcp.example.test", kTypeSrv});
    CHECK(zone.asked[3] == DnsQuestion{"_sip._udp.example.test", kTypeSrv});
    REQUIRE(r.result().ok());
    REQUIRE(r.result()->targets.size() == 2);
    CHECK(r.result()->targets[0].transport == TransportKind::Tcp);
    CHECK(r.result()->targets[0].port == 5063);
    CHECK(r.result()->targets[1].transport == TransportKind::Udp);
    CHECK(r.result()->targets[1].rank > r.result()->targets[0].rank);
}

TEST_CASE("NAPTR with no usable SIP service falls back to the SRV names") {
    FakeZone zone;
    zone.at("example.test", kTypeNaptr).naptr("example.test", 1, 1, "s", "SIP+D2W", "", "_sip._ws.example.test");
    zone.at("_sip._udp.example.test", kTypeSrv).srv("_sip._udp.example.test", 1, 1, 5062, "u.example.test");
    zone.at("u.example.test", kTypeA).a("u.example.test", "192.0.2.21");
    SipResolution r(named("example.test"));
    zone.drive(r);
    CHECK(zone.wasAsked("_sip._udp.example.test", kTypeSrv));
    REQUIRE(r.result().ok());
    CHECK(r.result()->targets.at(0).port == 5062);
}

TEST_CASE("a NAPTR failure does not stop resolution") {
    FakeZone zone;
    zone.failures[{"example.test", kTypeNaptr}] = "timeout";
    zone.at("_sip._udp.example.test", kTypeSrv).srv("_sip._udp.example.test", 1, 1, 5062, "u.example.test");
    zone.at("u.example.test", kTypeA).a("u.example.test", "192.0.2.21");
    SipResolution r(named("example.test"));
    zone.drive(r);
    REQUIRE(r.result().ok());
    CHECK(r.result()->targets.at(0).port == 5062);
}

TEST_CASE("no NAPTR and no SRV: A/AAAA over UDP 5060, or TLS 5061 for sips") {
    SUBCASE("sip") {
        FakeZone zone;
        zone.at("example.test", kTypeAaaa).aaaa("example.test", "::1");
        SipResolution r(named("example.test"));
        zone.drive(r);
        REQUIRE(r.result().ok());
        CHECK(r.result()->targets.at(0).transport == TransportKind::Udp);
        CHECK(r.result()->targets.at(0).port == 5060);
        CHECK(r.result()->targets.at(0).addresses.at(0).ipv6);
    }
    SUBCASE("sips") {
        FakeZone zone;
        zone.at("example.test", kTypeA).a("example.test", "192.0.2.1");
        ResolutionInput in = named("example.test");
        in.secure = true;
        SipResolution r(in);
        zone.drive(r);
        CHECK(zone.wasAsked("_sips._tcp.example.test", kTypeSrv));
        CHECK_FALSE(zone.wasAsked("_sip._tcp.example.test", kTypeSrv));
        CHECK_FALSE(zone.wasAsked("_sip._udp.example.test", kTypeSrv));
        REQUIRE(r.result().ok());
        CHECK(r.result()->targets.at(0).transport == TransportKind::Tls);
        CHECK(r.result()->targets.at(0).port == 5061);
    }
}

TEST_CASE("a name that does not exist fails with each step named") {
    FakeZone zone;
    SipResolution r(named("nowhere.test"));
    zone.drive(r);
    REQUIRE_FALSE(r.result().ok());
    const std::string& msg = r.result().error().message;
    CHECK(msg.find("no address for nowhere.test") != std::string::npos);
    CHECK(msg.find("NAPTR nowhere.test: NXDOMAIN") != std::string::npos);
    CHECK(msg.find("SRV _sip._udp.nowhere.test: NXDOMAIN") != std::string::npos);
    CHECK(msg.find("AAAA nowhere.test: NXDOMAIN") != std::string::npos);
}

TEST_CASE("SRV target '.' means the service is not available") {
    FakeZone zone;
    zone.at("_sip._tcp.example.test", kTypeSrv).srv("_sip._tcp.example.test", 0, 0, 0, "");
    zone.at("example.test", kTypeA).a("example.test", "192.0.2.1");
    ResolutionInput in = named("example.test");
    in.transport = TransportKind::Tcp;
    SipResolution r(in);
    zone.drive(r);
    CHECK_FALSE(zone.wasAsked("example.test", kTypeA));
    REQUIRE_FALSE(r.result().ok());
    CHECK(r.result().error().message.find("not available") != std::string::npos);
}

TEST_CASE("SRV lookups that fail (not NXDOMAIN) do not fall back to the host") {
    FakeZone zone;
    zone.failures[{"_sip._tcp.example.test", kTypeSrv}] = "timeout";
    zone.at("example.test", kTypeA).a("example.test", "192.0.2.1");
    ResolutionInput in = named("example.test");
    in.transport = TransportKind::Tcp;
    SipResolution r(in);
    zone.drive(r);
    CHECK_FALSE(zone.wasAsked("example.test", kTypeA));
    REQUIRE_FALSE(r.result().ok());
    CHECK(r.result().error().message.find("SRV _sip._tcp.example.test: timeout") != std::string::npos);
}

TEST_CASE("a SERVFAIL answer counts as a failure") {
    FakeZone zone;
    zone.at("_sip._tcp.example.test", kTypeSrv).rcode(kRcodeServFail);
    zone.at("example.test", kTypeA).a("example.test", "192.0.2.1");
    ResolutionInput in = named("example.test");
    in.transport = TransportKind::Tcp;
    SipResolution r(in);
    zone.drive(r);
    REQUIRE_FALSE(r.result().ok());
    CHECK(r.result().error().message.find("SERVFAIL") != std::string::npos);
}

TEST_CASE("CNAME chains in address answers are followed and bound the TTL") {
    FakeZone zone;
    zone.at("reg.example.test", kTypeA)
        .cname("reg.example.test", "edge.example.test", 20)
        .cname("edge.example.test", "host.example.test", 500)
        .a("host.example.test", "192.0.2.77", 500)
        .a("unrelated.example.test", "192.0.2.99", 500);
    ResolutionInput in = named("reg.example.test");
    in.port = 5060;
    SipResolution r(in);
    zone.drive(r);
    REQUIRE(r.result().ok());
    const auto& addrs = r.result()->targets.at(0).addresses;
    REQUIRE(addrs.size() == 1);
    CHECK(ip(addrs[0]) == "192.0.2.77");
    CHECK(r.result()->ttlSeconds == 20);
}

TEST_CASE("SRV targets without addresses are dropped; none left is an error") {
    SUBCASE("one of two has addresses") {
        FakeZone zone;
        zone.at("_sip._udp.example.test", kTypeSrv)
            .srv("_sip._udp.example.test", 1, 1, 5060, "dead.example.test")
            .srv("_sip._udp.example.test", 2, 1, 5060, "live.example.test");
        zone.at("live.example.test", kTypeA).a("live.example.test", "192.0.2.5");
        ResolutionInput in = named("example.test");
        in.transport = TransportKind::Udp;
        SipResolution r(in);
        zone.drive(r);
        REQUIRE(r.result().ok());
        REQUIRE(r.result()->targets.size() == 1);
        CHECK(r.result()->targets[0].host == "live.example.test");
    }
    SUBCASE("none has") {
        FakeZone zone;
        zone.at("_sip._udp.example.test", kTypeSrv).srv("_sip._udp.example.test", 1, 1, 5060, "dead.example.test");
        zone.at("example.test", kTypeA).a("example.test", "192.0.2.1");
        ResolutionInput in = named("example.test");
        in.transport = TransportKind::Udp;
        SipResolution r(in);
        zone.drive(r);
        CHECK_FALSE(zone.wasAsked("example.test", kTypeA));
        REQUIRE_FALSE(r.result().ok());
        CHECK(r.result().error().message.find("A dead.example.test: NXDOMAIN") != std::string::npos);
    }
}

TEST_CASE("a target shared by several SRV records is looked up once") {
    FakeZone zone;
    zone.at("_sip._udp.example.test", kTypeSrv)
        .srv("_sip._udp.example.test", 1, 1, 5060, "same.example.test")
        .srv("_sip._udp.example.test", 1, 1, 5062, "SAME.example.test");
    zone.at("same.example.test", kTypeA).a("same.example.test", "192.0.2.5");
    ResolutionInput in = named("example.test");
    in.transport = TransportKind::Udp;
    SipResolution r(in);
    zone.drive(r);
    std::size_t addressQueries = 0;
    for (const auto& q : zone.asked) {
        if (q.type == kTypeA || q.type == kTypeAaaa) ++addressQueries;
    }
    CHECK(addressQueries == 2);
    REQUIRE(r.result().ok());
    REQUIRE(r.result()->targets.size() == 2);
    CHECK(ip(r.result()->targets[1].addresses.at(0)) == "192.0.2.5");
}

TEST_CASE("answers to questions not asked are ignored") {
    ResolutionInput in = named("example.test");
    in.port = 5060;
    SipResolution r(in);
    const auto qs = r.takeQueries();
    REQUIRE(qs.size() == 2);
    r.onAnswer(DnsQuestion{"other.test", kTypeA}, DnsPacketBuilder().a("other.test", "192.0.2.1").parsed());
    r.onFailure(DnsQuestion{"other.test", kTypeAaaa}, "timeout");
    CHECK_FALSE(r.done());
    CHECK(r.outstanding() == 2);
    r.onAnswer(qs[0], DnsPacketBuilder().a("example.test", "192.0.2.9").parsed());
    r.onAnswer(qs[0], DnsPacketBuilder().a("example.test", "192.0.2.10").parsed());  // duplicate: ignored
    CHECK(r.outstanding() == 1);
    r.onFailure(qs[1], "timeout");
    REQUIRE(r.done());
    REQUIRE(r.result().ok());
    REQUIRE(r.result()->targets.at(0).addresses.size() == 1);
    CHECK(ip(r.result()->targets[0].addresses[0]) == "192.0.2.9");
}

TEST_CASE("too many SRV targets are capped") {
    FakeZone zone;
    auto& b = zone.at("_sip._udp.example.test", kTypeSrv);
    for (int i = 0; i < 100; ++i) {
        b.srv("_sip._udp.example.test", 1, 1, 5060, "t" + std::to_string(i) + ".example.test");
    }
    for (int i = 0; i < 100; ++i) {
        const std::string n = "t" + std::to_string(i) + ".example.test";
        zone.at(n, kTypeA).a(n, "192.0.2.1");
    }
    ResolutionInput in = named("example.test");
    in.transport = TransportKind::Udp;
    SipResolution r(in);
    zone.drive(r);
    REQUIRE(r.result().ok());
    CHECK(r.result()->targets.size() == kMaxSrvTargets);
}
