#include <doctest/doctest.h>

#include <sstream>

#include "config/loader.h"
#include "config_test_support.h"
#include "support/test_data.h"

using namespace std::chrono_literals;
using sipreg::config::DigestAlgorithm;
using sipreg::config::KeepaliveMethod;
using sipreg::config::LogLevel;
using sipreg::config::SecretSource;
using sipreg::config::Transport;
using sipreg::config::test::joined;
using sipreg::config::test::load;

TEST_CASE("full.yaml: every key lands in the model, overrides win over defaults") {
    const auto result = load(sipreg::test::readDataFile("configs/good/full.yaml"), {{"TRUNK_A_PASSWORD", "trunk-a-secret"}});
    REQUIRE_MESSAGE(result.ok(), joined(result.errors));
    CHECK(result.warnings.empty());
    const auto& config = *result.config;

    const auto& g = config.global;
    REQUIRE(g.listen.size() == 2);
    CHECK(g.listen[0].address == "127.0.0.1");
    CHECK(g.listen[0].port == 5070);
    CHECK_FALSE(g.listen[0].isIpv6);
    CHECK(g.listen[1].address == "::1");
    CHECK(g.listen[1].port == 5071);
    CHECK(g.listen[1].isIpv6);
    CHECK(g.maxRate == 200);
    CHECK(g.startSpread == 30s);
    CHECK(g.shutdownTimeout == 60s);
    CHECK((g.logLevel == LogLevel::Debug));
    CHECK(g.inviteResponse.code == 486);
    CHECK(g.inviteResponse.reason == "Busy Here Now");
    CHECK(g.dns.servers == std::vector<std::string>{"127.0.0.1:5353", "[::1]:53", "192.0.2.53:53"});
    CHECK(g.dns.timeout == 5s);

    REQUIRE(config.lines.size() == 4);

    SUBCASE("trunk-a: own keys, inherited defaults, expires overridden") {
        const auto& l = config.lines[0];
        CHECK(l.id == "trunk-a");
        CHECK(l.enabled);
        CHECK(l.registrar.uri == "sip:sip.example.net");
        CHECK(l.registrar.host == "sip.example.net");
        CHECK_FALSE(l.registrar.port.has_value());
        CHECK_FALSE(l.registrar.secure);
        CHECK(l.aor == "sip:+15551234567@example.net");
        CHECK(l.aorUser == "+15551234567");
        CHECK(l.aorHost == "example.net");
        CHECK(l.displayName == "Main trunk");
        REQUIRE(l.auth.has_value());
        CHECK(l.auth->username == "15551234567");
        CHECK(l.auth->realm == std::optional<std::string>("example.net"));
        CHECK((l.auth->source == SecretSource::Environment));
        CHECK(l.auth->sourceName == "TRUNK_A_PASSWORD");
        REQUIRE(l.auth->password.has_value());
        CHECK(l.auth->password->reveal() == "trunk-a-secret");
        CHECK(l.auth->ha1.empty());
        CHECK(l.contactUser == "15551234567");
        CHECK_FALSE(l.contact.has_value());
        REQUIRE(l.outboundProxy.has_value());
        CHECK(l.outboundProxy->uri == "sip:sbc.example.net;lr");
        CHECK(l.outboundProxy->host == "sbc.example.net");
        CHECK(l.outboundProxy->looseRouting);
        CHECK(l.expires == 600s);
        CHECK((l.transport == Transport::Tcp));
        CHECK(l.userAgent == "sipregd-test");
        CHECK(l.retry.base == 10s);
        CHECK(l.retry.max == 600s);
        CHECK(l.failedRetry == 3600s);
        CHECK(l.keepalive == std::optional<std::chrono::seconds>(25s));
        CHECK((l.keepaliveMethod == KeepaliveMethod::Options));
        CHECK_FALSE(l.nat.rewriteContact);
        CHECK(l.nat.maxRewritesPerHour == 2);
        CHECK(l.transportExplicit);
        CHECK_FALSE(l.tls.verify);
        CHECK(l.tls.serverName == "sbc.example.net");
        CHECK(l.tls.ciphers == "ECDHE+AESGCM:!aNULL");
        CHECK(l.tls.caFile.empty());
        CHECK(l.tls.certFile.empty());
    }
    SUBCASE("bob_2.tls: registrar derived from a sips AOR, partial overrides keep the rest") {
        const auto& l = config.lines[1];
        CHECK(l.id == "bob_2.tls");
        CHECK_FALSE(l.enabled);
        CHECK(l.registrar.uri == "sips:example.org");
        CHECK(l.registrar.host == "example.org");
        CHECK(l.registrar.secure);
        CHECK((l.transport == Transport::Tls));
        CHECK(l.expires == 5400s);
        CHECK(l.userAgent.empty());
        CHECK(l.retry.base == 5s);
        CHECK(l.retry.max == 600s);
        CHECK(l.failedRetry == 900s);
        CHECK_FALSE(l.keepalive.has_value());
        CHECK((l.keepaliveMethod == KeepaliveMethod::Crlf));
        CHECK(l.nat.rewriteContact);
        CHECK(l.nat.maxRewritesPerHour == 2);
        REQUIRE(l.auth.has_value());
        CHECK(l.auth->username == "bob");
        CHECK((l.auth->source == SecretSource::Literal));
        CHECK(l.auth->password->reveal() == "bob-secret");
        CHECK_FALSE(l.auth->realm.has_value());
        CHECK(l.contactUser == "bob");
        CHECK(l.displayName.empty());
        CHECK_FALSE(l.outboundProxy.has_value());
        // The line's tls block is merged over the defaults' one, key by key; "" drops a value.
        CHECK(l.tls.verify);
        CHECK(l.tls.serverName.empty());
        CHECK(l.tls.ciphers == "ECDHE+AESGCM:!aNULL");
    }
    SUBCASE("carol: bare host:port registrar, full contact, HA1 only") {
        const auto& l = config.lines[2];
        CHECK(l.registrar.uri == "sip:192.0.2.10:5080");
        CHECK(l.registrar.host == "192.0.2.10");
        CHECK(l.registrar.port == std::optional<uint16_t>(5080));
        CHECK(l.contact == std::optional<std::string>("sip:carol-desk@198.51.100.7:5062"));
        CHECK(l.contactUser == "carol-desk");
        REQUIRE(l.auth.has_value());
        CHECK(l.auth->username == "carol-auth");
        CHECK((l.auth->source == SecretSource::Ha1Only));
        CHECK_FALSE(l.auth->password.has_value());
        REQUIRE(l.auth->ha1.size() == 2);
        CHECK(l.auth->ha1.at(DigestAlgorithm::Md5).reveal() == "0123456789abcdef0123456789abcdef");
        CHECK(l.auth->ha1.at(DigestAlgorithm::Sha256).reveal() ==
              "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff");
        CHECK((l.transport == Transport::Tcp));
    }
    SUBCASE("dave: the registrar's ;transport= beats the inherited default, no auth") {
        const auto& l = config.lines[3];
        CHECK(l.registrar.host == "2001:db8::5");
        CHECK(l.registrar.hostIsIpv6);
        CHECK(l.registrar.port == std::optional<uint16_t>(5090));
        CHECK((l.transport == Transport::Udp));
        CHECK_FALSE(l.auth.has_value());
        CHECK(config.findLine("dave") == &l);
        CHECK(config.findLine("nobody") == nullptr);
    }
}

TEST_CASE("a minimal line gets every built-in default") {
    const auto result = load("lines:\n  - id: a\n    aor: sip:alice@example.net\n");
    REQUIRE_MESSAGE(result.ok(), joined(result.errors));
    const auto& g = result.config->global;
    REQUIRE(g.listen.size() == 1);
    CHECK(g.listen[0].address == "0.0.0.0");
    CHECK(g.listen[0].port == 0);
    CHECK(g.maxRate == 50);
    CHECK(g.startSpread == 5s);
    CHECK(g.shutdownTimeout == 5s);
    CHECK((g.logLevel == LogLevel::Info));
    CHECK(g.inviteResponse.code == 480);
    CHECK(g.inviteResponse.reason == "Temporarily Unavailable");
    CHECK(g.dns.servers.empty());
    CHECK(g.dns.timeout == 2s);

    const auto& l = result.config->lines.at(0);
    CHECK(l.enabled);
    CHECK(l.registrar.uri == "sip:example.net");
    CHECK((l.transport == Transport::Udp));
    CHECK_FALSE(l.transportExplicit);
    CHECK((l.tls == sipreg::config::TlsSettings{}));
    CHECK(l.tls.verify);
    CHECK(l.expires == 3600s);
    CHECK(l.userAgent == "sipregd");
    CHECK(l.retry.base == 30s);
    CHECK(l.retry.max == 1800s);
    CHECK(l.failedRetry == 600s);
    CHECK_FALSE(l.keepalive.has_value());
    CHECK((l.keepaliveMethod == KeepaliveMethod::Crlf));
    CHECK(l.nat.rewriteContact);
    CHECK(l.nat.maxRewritesPerHour == 4);
    CHECK_FALSE(l.auth.has_value());
    CHECK(l.contactUser == "alice");
}

TEST_CASE("listen accepts a single map, invite_response a bare code") {
    const auto result = load(
        "listen: { address: '[::]', port: 5060 }\n"
        "invite_response: 603\n"
        "lines: []\n");
    REQUIRE_MESSAGE(result.ok(), joined(result.errors));
    REQUIRE(result.config->global.listen.size() == 1);
    CHECK(result.config->global.listen[0].address == "::");
    CHECK(result.config->global.listen[0].isIpv6);
    CHECK(result.config->global.inviteResponse.code == 603);
    CHECK(result.config->global.inviteResponse.reason == "Decline");
    REQUIRE(result.warnings.size() == 1);
    CHECK(result.warnings[0].toString() == "test.yaml:3:8: lines: no lines configured; nothing will be registered");
}

TEST_CASE("transport follows the first hop: sips registrar means tls, proxy ;transport= wins") {
    const auto result = load(
        "lines:\n"
        "  - id: a\n"
        "    aor: sip:a@example.net\n"
        "    registrar: sips:pbx.example.net\n"
        "  - id: b\n"
        "    aor: sip:b@example.net\n"
        "    registrar: pbx.example.net:5070;transport=tcp\n"
        "  - id: c\n"
        "    aor: sip:c@example.net\n"
        "    outbound_proxy: sip:sbc.example.net;transport=tcp;lr\n"
        "  - id: d\n"
        "    aor: sip:d@example.net\n"
        "    transport: tcp\n"
        "    registrar: sip:pbx.example.net;transport=TCP\n");
    REQUIRE_MESSAGE(result.ok(), joined(result.errors));
    const auto& lines = result.config->lines;
    CHECK((lines[0].transport == Transport::Tls));
    CHECK((lines[1].transport == Transport::Tcp));
    CHECK(lines[1].registrar.uri == "sip:pbx.example.net:5070;transport=tcp");
    CHECK(lines[1].registrar.port == std::optional<uint16_t>(5070));
    CHECK((lines[2].transport == Transport::Tcp));
    CHECK(lines[2].registrar.uri == "sip:example.net");
    CHECK((lines[3].transport == Transport::Tcp));
    for (const auto& line : lines) {
        CAPTURE(line.id);
        CHECK(line.transportExplicit);
    }
}

TEST_CASE("transportExplicit: only a transport nobody wrote leaves the choice to DNS") {
    const auto result = load(
        "lines:\n"
        "  - { id: plain, aor: 'sip:a@example.net' }\n"
        "  - { id: own, aor: 'sip:a@example.net', transport: udp }\n"
        "  - { id: param, aor: 'sip:a@example.net', registrar: 'sip:pbx.example.net;transport=udp' }\n"
        "  - { id: sips-aor, aor: 'sips:a@example.net' }\n"
        "  - { id: sips-proxy, aor: 'sip:a@example.net', outbound_proxy: 'sips:sbc.example.net;lr' }\n"
        // The registrar's parameter does not choose the way to a proxy that names none.
        "  - { id: via-proxy, aor: 'sip:a@example.net', registrar: 'sip:pbx;transport=tcp', "
        "outbound_proxy: 'sip:sbc.example.net;lr' }\n"
        "  - { id: port-only, aor: 'sip:a@example.net', registrar: 'pbx.example.net:5080' }\n");
    REQUIRE_MESSAGE(result.ok(), joined(result.errors));
    const auto& c = *result.config;
    CHECK_FALSE(c.findLine("plain")->transportExplicit);
    CHECK((c.findLine("plain")->transport == Transport::Udp));
    CHECK(c.findLine("own")->transportExplicit);
    CHECK(c.findLine("param")->transportExplicit);
    CHECK(c.findLine("sips-aor")->transportExplicit);
    CHECK((c.findLine("sips-aor")->transport == Transport::Tls));
    CHECK(c.findLine("sips-proxy")->transportExplicit);
    CHECK((c.findLine("sips-proxy")->transport == Transport::Tls));
    CHECK_FALSE(c.findLine("via-proxy")->transportExplicit);
    CHECK((c.findLine("via-proxy")->transport == Transport::Udp));
    CHECK_FALSE(c.findLine("port-only")->transportExplicit);

    const auto inherited = load("defaults: { transport: tcp }\nlines:\n  - { id: a, aor: 'sip:a@example.net' }\n");
    REQUIRE_MESSAGE(inherited.ok(), joined(inherited.errors));
    CHECK(inherited.config->lines[0].transportExplicit);
    CHECK((inherited.config->lines[0].transport == Transport::Tcp));
    CHECK(describe(inherited.config->lines[0]).find("transport=tcp ") != std::string::npos);
    CHECK(describe(c.lines[0]).find("transport=udp(dns) ") != std::string::npos);
}

TEST_CASE("describe() shows settings but never a secret") {
    const auto result = load(
        "lines:\n"
        "  - id: a\n"
        "    aor: sip:a@example.net\n"
        "    auth: { password: hunter2-literal }\n"
        "  - id: b\n"
        "    aor: sip:b@example.net\n"
        "    auth:\n"
        "      realm: example.net\n"
        "      password_ha1: { MD5: 5f4dcc3b5aa765d61d8327deb882cf99 }\n");
    REQUIRE_MESSAGE(result.ok(), joined(result.errors));
    const std::string a = describe(result.config->lines[0]);
    const std::string b = describe(result.config->lines[1]);
    CHECK(a.find("hunter2-literal") == std::string::npos);
    CHECK(a.find("password=<redacted>") != std::string::npos);
    CHECK(a.find("aor=sip:a@example.net") != std::string::npos);
    CHECK(b.find("5f4dcc3b") == std::string::npos);
    CHECK(b.find("ha1.MD5=<redacted>") != std::string::npos);

    std::ostringstream streamed;
    streamed << *result.config->lines[0].auth->password;
    CHECK(streamed.str() == "<redacted>");
}
