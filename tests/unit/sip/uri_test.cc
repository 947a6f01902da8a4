#include <doctest/doctest.h>

#include "sip/uri.h"

using namespace sipreg::sip;

TEST_CASE("parseUri: user, password, host, port, parameters and headers") {
    auto u = parseUri("sip:alice:secret@example.com:5070;transport=tcp;lr?subject=hi&priority=urgent");
    REQUIRE(u.ok());
    CHECK(u->scheme == "sip");
    CHECK(u->isSip());
    CHECK_FALSE(u->isSips());
    CHECK(u->user == "alice");
    CHECK(u->password == "secret");
    CHECK(u->host == "example.com");
    CHECK_FALSE(u->hostIsIpv6);
    REQUIRE(u->port.has_value());
    CHECK(*u->port == 5070);
    CHECK(u->params == "transport=tcp;lr");
    CHECK(u->headers == "subject=hi&priority=urgent");
    CHECK(u->hostPort() == "example.com:5070");
}

TEST_CASE("parseUri: parameters with and without values, case-insensitive names") {
    auto u = parseUri("sips:example.com;Transport=TLS;lr;maddr=192.0.2.1");
    REQUIRE(u.ok());
    CHECK(u->isSips());
    CHECK(u->isSip());
    CHECK(u->user.empty());
    CHECK_FALSE(u->port.has_value());
    REQUIRE(u->param("transport").has_value());
    CHECK(*u->param("transport") == "TLS");
    REQUIRE(u->param("LR").has_value());
    CHECK(u->param("lr")->empty());
    CHECK(*u->param("maddr") == "192.0.2.1");
    CHECK_FALSE(u->param("ttl").has_value());
    CHECK(u->hostPort() == "example.com");
}

TEST_CASE("parseUri: scheme is case-insensitive") {
    auto u = parseUri("SIP:bob@EXAMPLE.com");
    REQUIRE(u.ok());
    CHECK(u->isSip());
    CHECK(u->scheme == "SIP");
    CHECK(u->user == "bob");
}

TEST_CASE("parseUri: IPv4 and IPv6 hosts") {
    auto v4 = parseUri("sip:192.0.2.4:5060");
    REQUIRE(v4.ok());
    CHECK(v4->host == "192.0.2.4");
    CHECK(*v4->port == 5060);

    auto v6 = parseUri("sip:bob@[2001:db8::1]:5061;transport=tls");
    REQUIRE(v6.ok());
    CHECK(v6->hostIsIpv6);
    CHECK(v6->host == "2001:db8::1");
    CHECK(*v6->port == 5061);
    CHECK(v6->hostPort() == "[2001:db8::1]:5061");

    auto mapped = parseUri("sip:[::ffff:192.0.2.2]");
    REQUIRE(mapped.ok());
    CHECK(mapped->host == "::ffff:192.0.2.2");
    CHECK_FALSE(mapped->port.has_value());
}

TEST_CASE("parseUri: rejects malformed SIP URIs") {
    for (const char* bad : {"sip:", "sip:@example.com", "sip:2001:db8::10", "sip:[2001:db8::1",
                            "sip:[zz::1]", "sip:host:99999", "sip:host:", "sip:host:50a",
                            "sip:us er@host", "sip:user@host;a=%4", "sip:user@host;a=%zz",
                            "sip:user@host>", "<sip:user@host>", "sip:user@ho st", "nocolon",
                            ":nothing", "1sip:host", "sip:user@host?a=<b>"}) {
        INFO(std::string(bad));
        CHECK_FALSE(parseUri(bad).ok());
    }
}

TEST_CASE("parseUri: error carries an offset") {
    auto r = parseUri("sip:user@host:99999");
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().hasOffset());
    CHECK(r.error().offset == 14);
    CHECK(r.error().message.find("port") != std::string::npos);
}

TEST_CASE("parseUri: other schemes are kept opaque") {
    auto tel = parseUri("tel:+1-201-555-0123");
    REQUIRE(tel.ok());
    CHECK_FALSE(tel->isSip());
    CHECK(tel->scheme == "tel");
    CHECK(tel->opaque == "+1-201-555-0123");
    CHECK(tel->host.empty());
    CHECK_FALSE(parseUri("tel:").ok());
    CHECK_FALSE(parseUri("tel:a b").ok());
}

TEST_CASE("parseUri: user part keeps ';' and '?' before '@' (RFC 4475 3.1.1.9)") {
    auto u = parseUri("sip:user;par=u%40example.net@example.com");
    REQUIRE(u.ok());
    CHECK(u->user == "user;par=u%40example.net");
    CHECK(u->host == "example.com");
    CHECK(u->params.empty());
}

TEST_CASE("percentDecode decodes once and rejects broken escapes") {
    CHECK(*percentDecode("value%25%34%31") == "value%41");
    CHECK(*percentDecode("%75se%72") == "user");
    CHECK(*percentDecode("plain") == "plain");
    auto nul = percentDecode("a%00b");
    REQUIRE(nul.ok());
    CHECK(nul->size() == 3);
    CHECK((*nul)[1] == '\0');
    CHECK_FALSE(percentDecode("%").ok());
    CHECK_FALSE(percentDecode("%4").ok());
    CHECK_FALSE(percentDecode("%G1").ok());
    auto bad = percentDecode("ab%zz");
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.error().offset == 2);
}
