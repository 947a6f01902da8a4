#include "net/socket_address.h"

#include <doctest/doctest.h>

#include <set>
#include <unordered_set>

using sipreg::net::AddressFamily;
using sipreg::net::resolveLiteralHost;
using sipreg::net::SocketAddress;

TEST_CASE("IPv4 and IPv6 addresses with ports parse and print") {
    auto v4 = SocketAddress::parse("127.0.0.1:5060");
    REQUIRE(v4.ok());
    CHECK(v4->family() == AddressFamily::IPv4);
    CHECK(v4->ip() == "127.0.0.1");
    CHECK(v4->port() == 5060);
    CHECK(v4->toString() == "127.0.0.1:5060");

    auto v6 = SocketAddress::parse("[::1]:5070");
    REQUIRE(v6.ok());
    CHECK(v6->family() == AddressFamily::IPv6);
    CHECK(v6->ip() == "::1");
    CHECK(v6->port() == 5070);
    CHECK(v6->toString() == "[::1]:5070");

    auto full = SocketAddress::parse("[2001:DB8:0:0::1]:65535");
    REQUIRE(full.ok());
    CHECK(full->toString() == "[2001:db8::1]:65535");
}

TEST_CASE("a default port applies only when the text has none") {
    CHECK(SocketAddress::parse("10.0.0.1", 5060)->toString() == "10.0.0.1:5060");
    CHECK(SocketAddress::parse("::1", 5060)->toString() == "[::1]:5060");
    CHECK(SocketAddress::parse("[::1]", 5060)->toString() == "[::1]:5060");
    CHECK(SocketAddress::parse("10.0.0.1:7000", 5060)->port() == 7000);
    auto missing = SocketAddress::parse("10.0.0.1");
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.error().message == "missing port in address \"10.0.0.1\"");
}

TEST_CASE("malformed addresses are error values naming the input") {
    struct Case {
        const char* text;
        const char* message;
    };
    const Case cases[] = {
        {"127.0.0.1:", "invalid port \"\" in address \"127.0.0.1:\""},
        {"127.0.0.1:65536", "invalid port \"65536\" in address \"127.0.0.1:65536\""},
        {"127.0.0.1:50x", "invalid port \"50x\" in address \"127.0.0.1:50x\""},
        {"127.0.0.1:-1", "invalid port \"-1\" in address \"127.0.0.1:-1\""},
        {"[::1", "missing ']' in address \"[::1\""},
        {"[::1]5060", "unexpected text after ']' in address \"[::1]5060\""},
        {"[127.0.0.1]:5060", "brackets are only for IPv6 addresses: \"[127.0.0.1]:5060\""},
        {"example.com:5060", "invalid address \"example.com:5060\": not an IP address: \"example.com\""},
        {"256.1.1.1:5060", "invalid address \"256.1.1.1:5060\": not an IP address: \"256.1.1.1\""},
        {":5060", "invalid address \":5060\": not an IP address: \"\""},
        {"", "missing port in address \"\""},
    };
    for (const auto& c : cases) {
        CAPTURE(c.text);
        auto r = SocketAddress::parse(c.text);
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().message == c.message);
    }
    auto longText = SocketAddress::parse(std::string(200, '1') + ":5060");
    CHECK_FALSE(longText.ok());
}

TEST_CASE("equality, ordering and hashing use family, address and port") {
    const auto a = *SocketAddress::parse("127.0.0.1:5060");
    const auto b = *SocketAddress::parse("127.0.0.1:5061");
    const auto c = *SocketAddress::parse("[::1]:5060");
    CHECK(a == SocketAddress::loopbackV4(5060));
    CHECK(c == SocketAddress::loopbackV6(5060));
    CHECK(a != b);
    CHECK(a != c);
    CHECK(a < b);
    CHECK((a < c) != (c < a));
    std::unordered_set<SocketAddress> set{a, b, c, SocketAddress::loopbackV4(5060)};
    CHECK(set.size() == 3);
    std::set<SocketAddress> ordered{c, b, a};
    CHECK(ordered.size() == 3);
    CHECK(*ordered.begin() == a);
}

TEST_CASE("wildcards, ports and sockaddr round trips") {
    CHECK(SocketAddress{}.toString() == "0.0.0.0:0");
    CHECK(SocketAddress::anyV4(5060).isUnspecified());
    CHECK(SocketAddress::anyV6().toString() == "[::]:0");
    CHECK(SocketAddress::anyV6().isUnspecified());
    CHECK_FALSE(SocketAddress::loopbackV6().isUnspecified());
    auto a = SocketAddress::loopbackV6(1);
    a.setPort(5080);
    CHECK(a.port() == 5080);
    CHECK(a.sockaddrLength() == sizeof(sockaddr_in6));
    auto back = SocketAddress::fromSockaddr(a.sockaddrPtr());
    REQUIRE(back.ok());
    CHECK(*back == a);

    sockaddr unix{};
    unix.sa_family = AF_UNIX;
    auto bad = SocketAddress::fromSockaddr(&unix);
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.error().message == "unsupported address family 1");
    CHECK_FALSE(SocketAddress::fromSockaddr(nullptr).ok());
}

TEST_CASE("registrar hosts resolve only as IP literals or localhost") {
    CHECK(resolveLiteralHost("localhost", 5060)->toString() == "127.0.0.1:5060");
    CHECK(resolveLiteralHost("LocalHost", 5060)->toString() == "127.0.0.1:5060");
    CHECK(resolveLiteralHost("192.0.2.7", 5070)->toString() == "192.0.2.7:5070");
    CHECK(resolveLiteralHost("::1", 5060)->toString() == "[::1]:5060");
    CHECK(resolveLiteralHost("[2001:db8::5]", 5060)->toString() == "[2001:db8::5]:5060");
    auto name = resolveLiteralHost("sip.example.com", 5060);
    REQUIRE_FALSE(name.ok());
    CHECK(name.error().message ==
          "cannot resolve host \"sip.example.com\": only IP literals and localhost are supported (no DNS yet)");
    CHECK_FALSE(resolveLiteralHost("localhost.", 5060).ok());
}
