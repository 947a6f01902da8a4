#include <doctest/doctest.h>

#include "auth/redaction.h"

using sipreg::auth::redactAuthorization;

namespace {
const std::string kDots = "\xE2\x80\xA6";
}

TEST_CASE("response, cnonce and nonce values are hidden; the rest is kept") {
    const std::string value =
        "Digest username=\"alice\", realm=\"example.com\", nonce=\"b6e5a3c4d1f2\", "
        "uri=\"sip:example.com\", response=\"e1b72190a43bf30f81de8f31e3bb8c2f\", algorithm=SHA-256, "
        "cnonce=\"0a4f113b\", opaque=\"5ccc\", qop=auth, nc=00000001";
    const std::string r = redactAuthorization(value);
    CHECK(r ==
          "Digest username=\"alice\", realm=\"example.com\", nonce=\"" + kDots +
              "\", uri=\"sip:example.com\", response=\"" + kDots +
              "\", algorithm=SHA-256, cnonce=\"" + kDots + "\", opaque=\"5ccc\", qop=auth, nc=00000001");
}

TEST_CASE("escaped quotes in a realm do not end the value early") {
    const std::string value =
        R"(Digest realm="a\", response=\"x", RESPONSE="deadbeef", username="bob")";
    const std::string r = redactAuthorization(value);
    CHECK(r.find("deadbeef") == std::string::npos);
    CHECK(r.find(R"(realm="a\", response=\"x")") != std::string::npos);
    CHECK(r.find("username=\"bob\"") != std::string::npos);
}

TEST_CASE("unquoted secret values are hidden too") {
    const std::string r = redactAuthorization("Digest response=abcdef, nonce=1234, username=carol");
    CHECK(r == "Digest response=" + kDots + ", nonce=" + kDots + ", username=carol");
}

TEST_CASE("other schemes keep only the scheme") {
    CHECK(redactAuthorization("Basic YWxpY2U6c2VjcmV0") == "Basic " + kDots);
    CHECK(redactAuthorization("Bearer") == "Bearer");
}

TEST_CASE("garbage stops interpretation without leaking") {
    const std::string unterminated = redactAuthorization("Digest username=\"alice\", response=\"abc");
    CHECK(unterminated.find("abc") == std::string::npos);
    CHECK(unterminated.find("username=\"alice\"") != std::string::npos);

    const std::string junk = redactAuthorization("Digest username=\"a\" response=\"abc\"");
    CHECK(junk.find("abc") == std::string::npos);

    const std::string noEquals = redactAuthorization("Digest abc def=\"secret\"");
    CHECK(noEquals.find("secret") == std::string::npos);
    CHECK(redactAuthorization("") == "");
}
