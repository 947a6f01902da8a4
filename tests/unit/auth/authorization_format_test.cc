#include <doctest/doctest.h>

#include "auth/authorization_format.h"
#include "auth_test_support.h"

using namespace sipreg::auth;
using sipreg::auth::test::parseCredentials;

namespace {

DigestAuthorizationFields sampleFields() {
    DigestAuthorizationFields f;
    f.username = "alice";
    f.realm = "example.com";
    f.nonce = "b6e5a3c4";
    f.uri = "sip:example.com";
    f.response = "e1b72190a43bf30f81de8f31e3bb8c2f";
    f.algorithmText = "MD5";
    f.cnonce = "0a4f113b";
    f.opaque = std::string_view("5ccc069c");
    f.qop = Qop::Auth;
    f.nc = 1;
    return f;
}

}  // namespace

TEST_CASE("credentials are written in order with RFC 7616 quoting") {
    auto v = formatDigestAuthorization(sampleFields());
    REQUIRE(v.ok());
    CHECK(v.value() ==
          "Digest username=\"alice\", realm=\"example.com\", nonce=\"b6e5a3c4\", "
          "uri=\"sip:example.com\", response=\"e1b72190a43bf30f81de8f31e3bb8c2f\", algorithm=MD5, "
          "cnonce=\"0a4f113b\", opaque=\"5ccc069c\", qop=auth, nc=00000001");
}

TEST_CASE("without qop there is no qop, nc or cnonce; without opaque/algorithm none is written") {
    auto f = sampleFields();
    f.qop = Qop::None;
    f.cnonce = {};
    f.opaque.reset();
    f.algorithmText = {};
    auto v = formatDigestAuthorization(f);
    REQUIRE(v.ok());
    CHECK(v.value() ==
          "Digest username=\"alice\", realm=\"example.com\", nonce=\"b6e5a3c4\", "
          "uri=\"sip:example.com\", response=\"e1b72190a43bf30f81de8f31e3bb8c2f\"");
}

TEST_CASE("auth-int and userhash tokens") {
    auto f = sampleFields();
    f.qop = Qop::AuthInt;
    f.nc = 0x1a;
    f.userhash = true;
    auto v = formatDigestAuthorization(f);
    REQUIRE(v.ok());
    CHECK(v.value().find(", qop=auth-int, nc=0000001a, userhash=true") != std::string::npos);
}

TEST_CASE("quotes and backslashes are escaped and survive the round trip") {
    auto f = sampleFields();
    f.realm = "My \"Home\" \\ Realm";
    f.username = "a\"b\\c";
    auto v = formatDigestAuthorization(f);
    REQUIRE(v.ok());
    CHECK(v.value().find(R"(realm="My \"Home\" \\ Realm")") != std::string::npos);
    const auto parsed = parseCredentials(v.value());
    CHECK(parsed.scheme == "Digest");
    CHECK(parsed.at("realm") == "My \"Home\" \\ Realm");
    CHECK(parsed.at("username") == "a\"b\\c");
    CHECK(parsed.at("nc") == "00000001");
    CHECK(parsed.at("qop") == "auth");
    CHECK(parsed.at("opaque") == "5ccc069c");
}

TEST_CASE("control characters are refused, naming the field but not the value") {
    auto f = sampleFields();
    f.username = "alice\r\nVia: evil";
    auto v = formatDigestAuthorization(f);
    REQUIRE_FALSE(v.ok());
    CHECK(v.error().message.find("username") != std::string::npos);
    CHECK(v.error().message.find("evil") == std::string::npos);

    auto g = sampleFields();
    g.algorithmText = "MD5, x=\"y\"";
    CHECK_FALSE(formatDigestAuthorization(g).ok());
}

TEST_CASE("nonce count is eight lowercase hex digits") {
    CHECK(formatNonceCount(1) == "00000001");
    CHECK(formatNonceCount(0xabcdef) == "00abcdef");
    CHECK(formatNonceCount(0xffffffffu) == "ffffffff");
}
