// DnsClient against a real dnsmasq on 127.0.0.1 / ::1 and against a silent socket.
#include <doctest/doctest.h>

#include <algorithm>
#include <memory>
#include <optional>

#include "dns/dns_message.h"
#include "net/dns_client.h"
#include "net/uv_handle.h"
#include "unit/net/dnsmasq_runner.h"
#include "unit/net/loop_fixture.h"

using namespace sipreg;
using namespace sipreg::net;
using sipreg::net::testing::DnsmasqRunner;
using sipreg::net::testing::LoopFixture;

namespace {

std::vector<std::string> zoneRecords() {
    return {
        "--host-record=a.example.test,127.0.0.1,::1",
        "--host-record=b.example.test,127.0.0.2",
        "--srv-host=_sip._udp.example.test,a.example.test,5070,10,60",
        "--srv-host=_sip._udp.example.test,b.example.test,5071,20,40",
        "--naptr-record=example.test,10,20,s,SIP+D2U,,_sip._udp.example.test",
    };
}

struct Outcome {
    std::optional<Result<std::vector<uint8_t>>> result;
};

dns::DnsResponse parsedOk(const Outcome& o) {
    REQUIRE(o.result.has_value());
    REQUIRE_MESSAGE(o.result->ok(), o.result->error().message);
    auto parsed = dns::parseDnsResponse(o.result->value());
    REQUIRE_MESSAGE(parsed.ok(), parsed.error().message);
    return std::move(parsed).value();
}

// A UDP socket on 127.0.0.1 that receives queries and never answers.
struct SilentServer {
    explicit SilentServer(uv_loop_t* loop) {
        REQUIRE(uv_udp_init(loop, udp.get()) == 0);
        sockaddr_in a{};
        uv_ip4_addr("127.0.0.1", 0, &a);
        REQUIRE(uv_udp_bind(udp.get(), reinterpret_cast<const sockaddr*>(&a), 0) == 0);
        sockaddr_storage bound{};
        int len = sizeof bound;
        uv_udp_getsockname(udp.get(), reinterpret_cast<sockaddr*>(&bound), &len);
        port = ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
    }
    std::string server() const { return "127.0.0.1:" + std::to_string(port); }
    UvHandle<uv_udp_t> udp;
    uint16_t port = 0;
};

}  // namespace

TEST_CASE("server strings become the c-ares CSV") {
    auto csv = dnsServersCsv({"127.0.0.1:5353", "[::1]:53", "192.0.2.1", "::1"});
    REQUIRE(csv.ok());
    CHECK(*csv == "127.0.0.1:5353,[::1]:53,192.0.2.1:53,[::1]:53");
    auto bad = dnsServersCsv({"127.0.0.1:5353", "dns.example.test:53"});
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.error().message.find("dns.example.test:53") != std::string::npos);
    CHECK_FALSE(dnsServersCsv({"127.0.0.1:0"}).ok());
}

TEST_CASE("a bad server string fails create() and names the server") {
    LoopFixture fx;
    DnsClient::Options options;
    options.servers = {"not-an-ip:53"};
    auto client = DnsClient::create(&fx.loop, options);
    REQUIRE_FALSE(client.ok());
    CHECK(client.error().message.find("not-an-ip:53") != std::string::npos);
    fx.finish();
}

TEST_CASE("A, AAAA, SRV and NAPTR answers arrive raw from dnsmasq") {
    DnsmasqRunner dnsmasq(zoneRecords());
    REQUIRE(dnsmasq.ready());
    LoopFixture fx;
    {
        DnsClient::Options options;
        options.servers = {dnsmasq.serverV4()};
        auto created = DnsClient::create(&fx.loop, options);
        REQUIRE(created.ok());
        DnsClient& client = **created;

        Outcome a, aaaa, srv, naptr, nx;
        client.query("a.example.test", dns::kTypeA, [&](auto r) { a.result = std::move(r); });
        client.query("a.example.test", dns::kTypeAaaa, [&](auto r) { aaaa.result = std::move(r); });
        client.query("_sip._udp.example.test", dns::kTypeSrv, [&](auto r) { srv.result = std::move(r); });
        client.query("example.test", dns::kTypeNaptr, [&](auto r) { naptr.result = std::move(r); });
        client.query("missing.example.test", dns::kTypeA, [&](auto r) { nx.result = std::move(r); });
        CHECK(client.pendingQueries() == 5);
        REQUIRE(fx.runUntil([&] { return a.result && aaaa.result && srv.result && naptr.result && nx.result; },
                            "five answers"));
        CHECK(client.pendingQueries() == 0);

        const auto ra = parsedOk(a);
        REQUIRE(ra.answers.size() == 1);
        CHECK(std::get<dns::AddressData>(ra.answers[0].data).bytes[0] == 127);
        CHECK(ra.answers[0].ttl == 120);

        const auto raaaa = parsedOk(aaaa);
        REQUIRE(raaaa.answers.size() == 1);
        CHECK(std::get<dns::AddressData>(raaaa.answers[0].data).ipv6);
        CHECK(std::get<dns::AddressData>(raaaa.answers[0].data).bytes[15] == 1);

        const auto rsrv = parsedOk(srv);
        REQUIRE(rsrv.answers.size() == 2);
        std::vector<dns::SrvData> records;
        for (const auto& rr : rsrv.answers) records.push_back(std::get<dns::SrvData>(rr.data));
        std::sort(records.begin(), records.end(), [](auto& x, auto& y) { return x.priority < y.priority; });
        CHECK(records[0] == dns::SrvData{10, 60, 5070, "a.example.test"});
        CHECK(records[1] == dns::SrvData{20, 40, 5071, "b.example.test"});

        const auto rnaptr = parsedOk(naptr);
        REQUIRE(rnaptr.answers.size() == 1);
        const auto& n = std::get<dns::NaptrData>(rnaptr.answers[0].data);
        CHECK(n.service == "SIP+D2U");
        CHECK(n.flags == "s");
        CHECK(n.replacement == "_sip._udp.example.test");

        // NXDOMAIN is an answer too: the packet comes back for its rcode.
        CHECK(parsedOk(nx).rcode == dns::kRcodeNxDomain);
    }
    fx.finish();
}

TEST_CASE("an IPv6 server string reaches dnsmasq on ::1") {
    DnsmasqRunner dnsmasq(zoneRecords(), /*ipv6*/ true);
    REQUIRE(dnsmasq.ready());
    LoopFixture fx;
    {
        DnsClient::Options options;
        options.servers = {dnsmasq.serverV6()};
        auto created = DnsClient::create(&fx.loop, options);
        REQUIRE(created.ok());
        Outcome a;
        (*created)->query("b.example.test", dns::kTypeA, [&](auto r) { a.result = std::move(r); });
        REQUIRE(fx.runUntil([&] { return a.result.has_value(); }, "answer over IPv6"));
        const auto ra = parsedOk(a);
        REQUIRE(ra.answers.size() == 1);
        CHECK(std::get<dns::AddressData>(ra.answers[0].data).bytes[3] == 2);
    }
    fx.finish();
}

TEST_CASE("a server that never answers gives a timeout error") {
    LoopFixture fx;
    {
        SilentServer silent(&fx.loop);
        DnsClient::Options options;
        options.servers = {silent.server()};
        options.timeoutMs = 100;
        options.tries = 1;
        auto created = DnsClient::create(&fx.loop, options);
        REQUIRE(created.ok());
        Outcome out;
        (*created)->query("a.example.test", dns::kTypeA, [&](auto r) { out.result = std::move(r); });
        CHECK((*created)->openSockets() == 1);
        REQUIRE(fx.runUntil([&] { return out.result.has_value(); }, "timeout"));
        REQUIRE_FALSE(out.result->ok());
        const std::string& msg = out.result->error().message;
        CHECK(msg.find("a.example.test") != std::string::npos);
        CHECK(msg.find("imeout") != std::string::npos);
    }
    fx.finish();
}

TEST_CASE("no callback runs after the client is destroyed, and the loop closes clean") {
    LoopFixture fx;
    {
        SilentServer silent(&fx.loop);
        DnsClient::Options options;
        options.servers = {silent.server()};
        auto created = DnsClient::create(&fx.loop, options);
        REQUIRE(created.ok());
        bool called = false;
        (*created)->query("a.example.test", dns::kTypeA, [&](auto) { called = true; });
        (*created)->query("b.example.test", dns::kTypeAaaa, [&](auto) { called = true; });
        fx.runFor(20);
        created.value().reset();
        fx.runFor(20);
        CHECK_FALSE(called);
    }
    fx.finish();
}

TEST_CASE("a callback may destroy the client") {
    DnsmasqRunner dnsmasq(zoneRecords());
    REQUIRE(dnsmasq.ready());
    LoopFixture fx;
    {
        DnsClient::Options options;
        options.servers = {dnsmasq.serverV4()};
        auto created = DnsClient::create(&fx.loop, options);
        REQUIRE(created.ok());
        std::unique_ptr<DnsClient> client = std::move(*created);
        int calls = 0;
        // Both are answered in one read burst; the first callback destroys the client, so the
        // second must never run.
        client->query("a.example.test", dns::kTypeA, [&](auto) {
            ++calls;
            client.reset();
        });
        client->query("a.example.test", dns::kTypeA, [&](auto) {
            ++calls;
            client.reset();
        });
        REQUIRE(fx.runUntil([&] { return client == nullptr; }, "first answer"));
        fx.runFor(50);
        CHECK(calls == 1);
    }
    fx.finish();
}

TEST_CASE("an immediate c-ares failure is still delivered later, from the loop") {
    LoopFixture fx;
    {
        SilentServer silent(&fx.loop);
        DnsClient::Options options;
        options.servers = {silent.server()};
        auto created = DnsClient::create(&fx.loop, options);
        REQUIRE(created.ok());
        // UV_RUN_ONCE blocks for I/O after running due timers; a ticking timer keeps each
        // iteration short so the loop-driven delivery is observed at once.
        UvHandle<uv_timer_t> ticker;
        uv_timer_init(&fx.loop, ticker.get());
        uv_timer_start(ticker.get(), [](uv_timer_t*) {}, 1, 1);
        Outcome out;
        // A label over 63 bytes: c-ares refuses to build the query at once.
        (*created)->query(std::string(70, 'x') + ".example.test", dns::kTypeA, [&](auto r) { out.result = std::move(r); });
        CHECK_FALSE(out.result.has_value());
        REQUIRE(fx.runUntil([&] { return out.result.has_value(); }, "deferred failure"));
        CHECK_FALSE(out.result->ok());
    }
    fx.finish();
}

TEST_CASE("a truncated UDP answer is fetched again over TCP") {
    std::vector<std::string> records = zoneRecords();
    constexpr int kTargets = 30;  // ~40 bytes each: well past the 512-byte UDP limit
    for (int i = 0; i < kTargets; ++i) {
        records.push_back("--srv-host=_sip._udp.big.example.test,target" + std::to_string(i) +
                          ".example.test,5060,1," + std::to_string(i));
    }
    DnsmasqRunner dnsmasq(records);
    REQUIRE(dnsmasq.ready());
    LoopFixture fx;
    {
        DnsClient::Options options;
        options.servers = {dnsmasq.serverV4()};
        auto created = DnsClient::create(&fx.loop, options);
        REQUIRE(created.ok());
        Outcome srv;
        (*created)->query("_sip._udp.big.example.test", dns::kTypeSrv, [&](auto r) { srv.result = std::move(r); });
        REQUIRE(fx.runUntil([&] { return srv.result.has_value(); }, "SRV over TCP"));
        const auto r = parsedOk(srv);
        CHECK(srv.result->value().size() > 512);
        CHECK_FALSE(r.truncated);
        CHECK(r.answers.size() == kTargets);
    }
    fx.finish();
}

TEST_CASE("a dead first server is passed over for the next one") {
    DnsmasqRunner dnsmasq(zoneRecords());
    REQUIRE(dnsmasq.ready());
    LoopFixture fx;
    {
        SilentServer silent(&fx.loop);
        DnsClient::Options options;
        options.servers = {silent.server(), dnsmasq.serverV4()};
        options.timeoutMs = 100;
        options.tries = 2;
        auto created = DnsClient::create(&fx.loop, options);
        REQUIRE(created.ok());
        Outcome a;
        (*created)->query("b.example.test", dns::kTypeA, [&](auto r) { a.result = std::move(r); });
        REQUIRE(fx.runUntil([&] { return a.result.has_value(); }, "answer from the second server"));
        const auto ra = parsedOk(a);
        REQUIRE(ra.answers.size() == 1);
        CHECK(std::get<dns::AddressData>(ra.answers[0].data).bytes[3] == 2);
    }
    fx.finish();
}
