#include <doctest/doctest.h>

#include "auth/challenge_selection.h"
#include "auth/digest_challenge.h"
#include "auth_test_support.h"

using namespace sipreg::auth;
using sipreg::auth::test::ParsedChallenges;

namespace {

DigestChallenge parseOne(const std::string& header) {
    ParsedChallenges p({header});
    REQUIRE(p.values().size() == 1);
    auto c = parseDigestChallenge(p.values().front());
    REQUIRE_MESSAGE(c.ok(), c.error().message);
    REQUIRE(c.value().has_value());
    return *c.value();
}

std::string parseError(const std::string& header) {
    ParsedChallenges p({header});
    REQUIRE(p.values().size() == 1);
    auto c = parseDigestChallenge(p.values().front());
    REQUIRE_FALSE(c.ok());
    return c.error().message;
}

}  // namespace

TEST_CASE("a full RFC 7616 style challenge") {
    const auto c = parseOne(
        "Digest realm=\"http-auth@example.org\", qop=\"auth, auth-int\", algorithm=SHA-256, "
        "nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\", "
        "opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\"");
    CHECK(c.realm == "http-auth@example.org");
    CHECK(c.nonce == "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v");
    REQUIRE(c.opaque.has_value());
    CHECK(*c.opaque == "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS");
    CHECK(c.algorithm == DigestAlgorithm::Sha256);
    CHECK(c.algorithmText == "SHA-256");
    CHECK(c.qopOffered);
    CHECK(c.offersAuth);
    CHECK(c.offersAuthInt);
    CHECK_FALSE(c.stale);
    CHECK_FALSE(c.userhash);
}

TEST_CASE("lower-case digest scheme is Digest") {
    const auto c = parseOne("digest realm=\"example.com\", nonce=\"abc\"");
    CHECK(c.realm == "example.com");
    CHECK(c.nonce == "abc");
}

TEST_CASE("non-Digest schemes are skipped, not errors") {
    ParsedChallenges p({"Basic realm=\"example.com\""});
    auto c = parseDigestChallenge(p.values().front());
    REQUIRE(c.ok());
    CHECK_FALSE(c.value().has_value());
}

TEST_CASE("realm with spaces and escaped quotes is unescaped") {
    const auto c = parseOne(R"(Digest realm="My \"Home\" Realm \\ x", nonce="n1")");
    CHECK(c.realm == "My \"Home\" Realm \\ x");
}

TEST_CASE("missing qop means no qop, and no algorithm means MD5 without echo") {
    const auto c = parseOne("Digest realm=\"example.com\", nonce=\"n1\"");
    CHECK_FALSE(c.qopOffered);
    CHECK(chooseQop(c, {}) == Qop::None);
    CHECK(c.algorithm == DigestAlgorithm::Md5);
    CHECK(c.algorithmText.empty());
    CHECK_FALSE(c.opaque.has_value());
}

TEST_CASE("algorithm tokens: unquoted, quoted, any case") {
    CHECK(parseOne("Digest realm=\"r\", nonce=\"n\", algorithm=SHA-512-256").algorithm ==
          DigestAlgorithm::Sha512_256);
    CHECK(parseOne("Digest realm=\"r\", nonce=\"n\", algorithm=\"MD5-sess\"").algorithm ==
          DigestAlgorithm::Md5Sess);
    const auto lower = parseOne("Digest realm=\"r\", nonce=\"n\", algorithm=sha-256-SESS");
    CHECK(lower.algorithm == DigestAlgorithm::Sha256Sess);
    CHECK(lower.algorithmText == "sha-256-SESS");
}

TEST_CASE("stale flag in any case") {
    CHECK(parseOne("Digest realm=\"r\", nonce=\"n\", stale=true").stale);
    CHECK(parseOne("Digest realm=\"r\", nonce=\"n\", stale=TRUE").stale);
    CHECK(parseOne("Digest realm=\"r\", nonce=\"n\", stale=\"true\"").stale);
    CHECK_FALSE(parseOne("Digest realm=\"r\", nonce=\"n\", stale=false").stale);
    CHECK_FALSE(parseOne("Digest realm=\"r\", nonce=\"n\"").stale);
}

TEST_CASE("qop choice among auth and auth-int") {
    const auto both = parseOne("Digest realm=\"r\", nonce=\"n\", qop=\"auth,auth-int\"");
    CHECK(chooseQop(both, {}) == Qop::Auth);
    DigestOptions preferInt;
    preferInt.preferAuthInt = true;
    CHECK(chooseQop(both, preferInt) == Qop::AuthInt);

    const auto onlyInt = parseOne("Digest realm=\"r\", nonce=\"n\", qop=\"auth-int\"");
    CHECK(chooseQop(onlyInt, {}) == Qop::AuthInt);
    const auto onlyAuth = parseOne("Digest realm=\"r\", nonce=\"n\", qop=auth");
    CHECK(chooseQop(onlyAuth, preferInt) == Qop::Auth);
    const auto withUnknown = parseOne("Digest realm=\"r\", nonce=\"n\", qop=\"token, AUTH\"");
    CHECK(chooseQop(withUnknown, {}) == Qop::Auth);
}

TEST_CASE("domain, charset and userhash") {
    const auto c = parseOne(
        "Digest realm=\"api@example.org\", nonce=\"n\", domain=\"sip:a.example.com  sip:b.example.com\", "
        "charset=UTF-8, userhash=true");
    REQUIRE(c.domain.size() == 2);
    CHECK(c.domain[0] == "sip:a.example.com");
    CHECK(c.domain[1] == "sip:b.example.com");
    REQUIRE(c.charset.has_value());
    CHECK(*c.charset == "UTF-8");
    CHECK(c.userhash);
}

TEST_CASE("unanswerable Digest challenges are errors naming the problem") {
    CHECK(parseError("Digest nonce=\"n\"").find("missing realm") != std::string::npos);
    CHECK(parseError("Digest realm=\"r\"").find("missing nonce") != std::string::npos);
    const std::string unknown = parseError("Digest realm=\"r\", nonce=\"n\", algorithm=SHA-1");
    CHECK(unknown.find("unsupported algorithm \"SHA-1\"") != std::string::npos);
    CHECK(parseError("Digest realm=\"r\", nonce=\"n\", qop=\"foo\"").find("neither auth nor auth-int") !=
          std::string::npos);
}
