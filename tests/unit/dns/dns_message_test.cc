#include <doctest/doctest.h>

#include "crypto/random_source.h"
#include "dns/dns_message.h"
#include "unit/dns/dns_packet_builder.h"

using namespace sipreg;
using namespace sipreg::dns;
using sipreg::dns::testing::appendName;
using sipreg::dns::testing::appendU16;
using sipreg::dns::testing::appendU32;
using sipreg::dns::testing::DnsPacketBuilder;

namespace {

// Header of a NOERROR response with the given section counts.
std::vector<uint8_t> header(uint16_t qd, uint16_t an, uint16_t ns = 0, uint16_t ar = 0, uint16_t flags = 0x8180) {
    std::vector<uint8_t> out;
    appendU16(out, 0x4242);
    appendU16(out, flags);
    for (uint16_t c : {qd, an, ns, ar}) appendU16(out, c);
    return out;
}

void appendRecordHeader(std::vector<uint8_t>& out, uint16_t type, uint32_t ttl, uint16_t rdLength) {
    appendU16(out, type);
    appendU16(out, kClassIn);
    appendU32(out, ttl);
    appendU16(out, rdLength);
}

}  // namespace

TEST_CASE("every supported record type is parsed with its TTL") {
    const auto packet = DnsPacketBuilder()
                            .id(77)
                            .question("example.test", kTypeNaptr)
                            .naptr("example.test", 10, 20, "s", "SIP+D2T", "", "_sip._tcp.example.test", 3600)
                            .srv("_sip._tcp.example.test", 1, 60, 5070, "a.example.test", 600)
                            .cname("www.example.test", "a.example.test", 50)
                            .a("a.example.test", "192.0.2.7", 120)
                            .aaaa("a.example.test", "2001:db8::7", 90)
                            .additional()
                            .a("b.example.test", "192.0.2.8", 30)
                            .build();
    auto r = parseDnsResponse(packet);
    REQUIRE(r.ok());
    CHECK(r->id == 77);
    CHECK(r->rcode == kRcodeNoError);
    CHECK(r->questionName == "example.test");
    CHECK(r->questionType == kTypeNaptr);
    REQUIRE(r->answers.size() == 5);

    const auto& naptr = std::get<NaptrData>(r->answers[0].data);
    CHECK(r->answers[0].ttl == 3600);
    CHECK(naptr.order == 10);
    CHECK(naptr.preference == 20);
    CHECK(naptr.flags == "s");
    CHECK(naptr.service == "SIP+D2T");
    CHECK(naptr.regexp.empty());
    CHECK(naptr.replacement == "_sip._tcp.example.test");

    const auto& srv = std::get<SrvData>(r->answers[1].data);
    CHECK(r->answers[1].name == "_sip._tcp.example.test");
    CHECK(r->answers[1].ttl == 600);
    CHECK(srv == SrvData{1, 60, 5070, "a.example.test"});

    CHECK(std::get<CnameData>(r->answers[2].data).target == "a.example.test");
    CHECK(r->answers[2].ttl == 50);

    const auto& a = std::get<AddressData>(r->answers[3].data);
    CHECK_FALSE(a.ipv6);
    CHECK(a.bytes[0] == 192);
    CHECK(a.bytes[3] == 7);
    CHECK(r->answers[3].ttl == 120);

    const auto& aaaa = std::get<AddressData>(r->answers[4].data);
    CHECK(aaaa.ipv6);
    CHECK(aaaa.bytes[0] == 0x20);
    CHECK(aaaa.bytes[15] == 7);

    REQUIRE(r->additionals.size() == 1);
    CHECK(r->additionals[0].name == "b.example.test");
}

TEST_CASE("rcode, truncation and authority bits are reported") {
    auto nx = parseDnsResponse(DnsPacketBuilder().rcode(kRcodeNxDomain).question("x.test", kTypeA).build());
    REQUIRE(nx.ok());
    CHECK(nx->rcode == kRcodeNxDomain);
    CHECK(nx->answers.empty());
    CHECK(rcodeName(nx->rcode) == "NXDOMAIN");
    CHECK(rcodeName(9) == "RCODE9");
    CHECK(typeName(kTypeSrv) == "SRV");
    CHECK(typeName(99) == "TYPE99");

    auto aa = parseDnsResponse(header(0, 0, 0, 0, 0x8400 | kRcodeServFail));
    REQUIRE(aa.ok());
    CHECK(aa->authoritative);
    CHECK(aa->rcode == kRcodeServFail);
}

TEST_CASE("a query packet is not accepted as a response") {
    auto r = parseDnsResponse(DnsPacketBuilder().query().question("x.test", kTypeA).build());
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find("query") != std::string::npos);
}

TEST_CASE("records of other types and classes are skipped, the rest kept") {
    std::vector<uint8_t> txt{3, 'a', 'b', 'c'};
    const auto packet = DnsPacketBuilder()
                            .record("x.test", 16, 60, txt)
                            .record("x.test", kTypeA, 60, {1, 2, 3, 4}, 3)  // class CH
                            .a("x.test", "192.0.2.1")
                            .build();
    auto r = parseDnsResponse(packet);
    REQUIRE(r.ok());
    REQUIRE(r->answers.size() == 1);
    CHECK(r->answers[0].type == kTypeA);
}

TEST_CASE("a TTL with the top bit set counts as 0") {
    auto r = parseDnsResponse(DnsPacketBuilder().a("x.test", "192.0.2.1", 0x80000001u).build());
    REQUIRE(r.ok());
    CHECK(r->answers[0].ttl == 0);
}

TEST_CASE("compression pointers are followed") {
    // Question "sip.example.test"; the SRV owner points at it, the SRV target is "a" + a
    // pointer to "example.test" inside the question.
    auto p = header(1, 1);
    const uint16_t qnameAt = static_cast<uint16_t>(p.size());
    appendName(p, "sip.example.test");
    appendU16(p, kTypeSrv);
    appendU16(p, kClassIn);
    p.push_back(0xC0);
    p.push_back(static_cast<uint8_t>(qnameAt));
    std::vector<uint8_t> rd;
    appendU16(rd, 5);
    appendU16(rd, 10);
    appendU16(rd, 5060);
    rd.push_back(1);
    rd.push_back('a');
    rd.push_back(0xC0);
    rd.push_back(static_cast<uint8_t>(qnameAt + 4));  // "example.test"
    appendRecordHeader(p, kTypeSrv, 60, static_cast<uint16_t>(rd.size()));
    p.insert(p.end(), rd.begin(), rd.end());

    auto r = parseDnsResponse(p);
    REQUIRE(r.ok());
    REQUIRE(r->answers.size() == 1);
    CHECK(r->answers[0].name == "sip.example.test");
    CHECK(std::get<SrvData>(r->answers[0].data).target == "a.example.test");
}

TEST_CASE("compression loops and bad pointers are errors") {
    SUBCASE("a pointer to itself") {
        auto p = header(1, 0);
        const auto at = static_cast<uint8_t>(p.size());
        p.push_back(0xC0);
        p.push_back(at);
        appendU16(p, kTypeA);
        appendU16(p, kClassIn);
        auto r = parseDnsResponse(p);
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().message.find("loop") != std::string::npos);
    }
    SUBCASE("two pointers pointing at each other through labels") {
        auto p = header(1, 0);
        const auto first = static_cast<uint8_t>(p.size());
        p.insert(p.end(), {1, 'a', 0xC0, static_cast<uint8_t>(first + 4)});
        p.insert(p.end(), {1, 'b', 0xC0, first});
        appendU16(p, kTypeA);
        appendU16(p, kClassIn);
        auto r = parseDnsResponse(p);
        REQUIRE_FALSE(r.ok());
        // Either the jump bound or the name length bound stops it.
        const bool bounded = r.error().message.find("loop") != std::string::npos ||
                             r.error().message.find("255") != std::string::npos;
        CHECK(bounded);
    }
    SUBCASE("a pointer past the end") {
        auto p = header(1, 0);
        p.insert(p.end(), {0xC0, 0xFF});
        appendU16(p, kTypeA);
        appendU16(p, kClassIn);
        CHECK_FALSE(parseDnsResponse(p).ok());
    }
    SUBCASE("reserved label type 01") {
        auto p = header(1, 0);
        p.insert(p.end(), {0x40, 0x00});
        appendU16(p, kTypeA);
        appendU16(p, kClassIn);
        CHECK_FALSE(parseDnsResponse(p).ok());
    }
}

TEST_CASE("names longer than 255 bytes and odd labels are rejected") {
    std::string longName;
    for (int i = 0; i < 5; ++i) longName += std::string(60, 'a' + static_cast<char>(i)) + ".";
    longName += "test";  // 5 * 61 + 5 + 1 > 255
    CHECK_FALSE(parseDnsResponse(DnsPacketBuilder().a(longName, "192.0.2.1").build()).ok());

    auto p = header(0, 1);
    p.insert(p.end(), {3, 'a', '.', 'b', 0});
    appendRecordHeader(p, kTypeA, 1, 4);
    p.insert(p.end(), {1, 2, 3, 4});
    CHECK_FALSE(parseDnsResponse(p).ok());
}

TEST_CASE("record data must match its type") {
    SUBCASE("A with 5 bytes") {
        auto p = header(0, 1);
        appendName(p, "x.test");
        appendRecordHeader(p, kTypeA, 1, 5);
        p.insert(p.end(), {1, 2, 3, 4, 5});
        CHECK_FALSE(parseDnsResponse(p).ok());
    }
    SUBCASE("AAAA with 4 bytes") {
        auto p = header(0, 1);
        appendName(p, "x.test");
        appendRecordHeader(p, kTypeAaaa, 1, 4);
        p.insert(p.end(), {1, 2, 3, 4});
        CHECK_FALSE(parseDnsResponse(p).ok());
    }
    SUBCASE("SRV with trailing bytes") {
        auto p = header(0, 1);
        appendName(p, "_sip._udp.x.test");
        std::vector<uint8_t> rd{0, 1, 0, 1, 0x13, 0xc4};
        appendName(rd, "a.test");
        rd.push_back(9);
        appendRecordHeader(p, kTypeSrv, 1, static_cast<uint16_t>(rd.size()));
        p.insert(p.end(), rd.begin(), rd.end());
        CHECK_FALSE(parseDnsResponse(p).ok());
    }
    SUBCASE("SRV target running past its rdlength") {
        auto p = header(0, 1);
        appendName(p, "_sip._udp.x.test");
        std::vector<uint8_t> rd{0, 1, 0, 1, 0x13, 0xc4};
        appendName(rd, "a.test");
        appendRecordHeader(p, kTypeSrv, 1, static_cast<uint16_t>(rd.size() - 2));
        p.insert(p.end(), rd.begin(), rd.end());
        CHECK_FALSE(parseDnsResponse(p).ok());
    }
    SUBCASE("NAPTR character-string longer than the record") {
        auto p = header(0, 1);
        appendName(p, "x.test");
        std::vector<uint8_t> rd{0, 1, 0, 1, 40, 's'};
        appendRecordHeader(p, kTypeNaptr, 1, static_cast<uint16_t>(rd.size()));
        p.insert(p.end(), rd.begin(), rd.end());
        CHECK_FALSE(parseDnsResponse(p).ok());
    }
}

TEST_CASE("every cut of a valid packet is an error, never a crash") {
    const auto packet = DnsPacketBuilder()
                            .question("example.test", kTypeNaptr)
                            .naptr("example.test", 10, 20, "s", "SIP+D2U", "", "_sip._udp.example.test")
                            .srv("_sip._udp.example.test", 1, 60, 5070, "a.example.test")
                            .aaaa("a.example.test", "2001:db8::7")
                            .build();
    REQUIRE(parseDnsResponse(packet).ok());
    for (std::size_t len = 0; len < packet.size(); ++len) {
        CAPTURE(len);
        auto r = parseDnsResponse(std::span<const uint8_t>(packet.data(), len));
        CHECK_FALSE(r.ok());
    }
}

TEST_CASE("a truncated (TC) response keeps the records that arrived whole") {
    const auto full = DnsPacketBuilder()
                          .truncated()
                          .question("a.test", kTypeA)
                          .a("a.test", "192.0.2.1")
                          .a("a.test", "192.0.2.2")
                          .build();
    auto r = parseDnsResponse(std::span<const uint8_t>(full.data(), full.size() - 3));
    REQUIRE(r.ok());
    CHECK(r->truncated);
    REQUIRE(r->answers.size() == 1);
    CHECK(std::get<AddressData>(r->answers[0].data).bytes[3] == 1);
}

TEST_CASE("random corruption never crashes the parser") {
    const auto packet = DnsPacketBuilder()
                            .question("example.test", kTypeNaptr)
                            .naptr("example.test", 10, 20, "s", "SIP+D2U", "", "_sip._udp.example.test")
                            .srv("_sip._udp.example.test", 1, 60, 5070, "a.example.test")
                            .cname("c.example.test", "a.example.test")
                            .a("a.example.test", "192.0.2.1")
                            .build();
    crypto::DeterministicRandomSource random(7);
    std::size_t parsedOk = 0;
    for (int round = 0; round < 20000; ++round) {
        auto copy = packet;
        const int flips = 1 + static_cast<int>(random.next() % 4);
        for (int f = 0; f < flips; ++f) {
            copy[random.next() % copy.size()] = static_cast<uint8_t>(random.next());
        }
        auto r = parseDnsResponse(copy);
        if (r.ok()) ++parsedOk;
    }
    // Most single-byte changes (TTLs, addresses, ids) still parse; the point is no crash.
    CHECK(parsedOk > 0);
}

TEST_CASE("names compare case-insensitively, ignoring a trailing dot") {
    CHECK(sameName("A.Example.TEST", "a.example.test."));
    CHECK_FALSE(sameName("a.example.test", "b.example.test"));
    CHECK_FALSE(sameName("a.example", "a.example.test"));
}
