#include <doctest/doctest.h>

#include "auth/challenge_selection.h"
#include "auth_test_support.h"

using namespace sipreg::auth;
using sipreg::auth::test::ParsedChallenges;

namespace {

constexpr const char* kPassword = "s3cr3t-P@ss";

DigestCredentials passwordCredentials() {
    DigestCredentials c;
    c.username = "alice";
    c.password = kPassword;
    return c;
}

std::string challenge(const std::string& algorithm, const std::string& realm = "example.com",
                      const std::string& nonce = "n") {
    std::string s = "Digest realm=\"" + realm + "\", nonce=\"" + nonce + "\", qop=\"auth\"";
    if (!algorithm.empty()) s += ", algorithm=" + algorithm;
    return s;
}

SelectedChallenge pick(const std::vector<std::string>& headers,
                       const DigestCredentials& credentials = passwordCredentials(),
                       const DigestOptions& options = {}) {
    ParsedChallenges p(headers);
    auto r = selectChallenge(p.values(), credentials, options);
    REQUIRE_MESSAGE(r.ok(), r.error().message);
    return r.value();
}

std::string pickError(const std::vector<std::string>& headers,
                      const DigestCredentials& credentials = passwordCredentials(),
                      const DigestOptions& options = {}) {
    ParsedChallenges p(headers);
    auto r = selectChallenge(p.values(), credentials, options);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find(kPassword) == std::string::npos);
    return r.error().message;
}

}  // namespace

TEST_CASE("SHA-256 is preferred over MD5, in either order and in one or several headers") {
    CHECK(pick({challenge("SHA-256"), challenge("MD5")}).challenge.algorithm == DigestAlgorithm::Sha256);
    CHECK(pick({challenge("MD5"), challenge("SHA-256")}).challenge.algorithm == DigestAlgorithm::Sha256);
    CHECK(pick({challenge("MD5") + ", " + challenge("SHA-256")}).challenge.algorithm ==
          DigestAlgorithm::Sha256);
}

TEST_CASE("SHA-512-256 beats SHA-256-sess and MD5") {
    const auto s = pick({challenge("MD5"), challenge("SHA-256-sess"), challenge("SHA-512-256")});
    CHECK(s.challenge.algorithm == DigestAlgorithm::Sha512_256);
    CHECK(s.qop == Qop::Auth);
}

TEST_CASE("-sess ranks with its base, so the earlier offer wins a tie") {
    CHECK(pick({challenge("SHA-256-sess", "r", "a"), challenge("SHA-256", "r", "b")}).challenge.nonce == "a");
    CHECK(pick({challenge("SHA-256", "r", "a"), challenge("SHA-256-sess", "r", "b")}).challenge.nonce == "a");
    CHECK(pick({challenge(""), challenge("MD5-sess")}).challenge.algorithm == DigestAlgorithm::Md5);
}

TEST_CASE("unknown algorithms are skipped") {
    const auto s = pick({challenge("SHA-1"), challenge("MD5"), challenge("SHA3-256")});
    CHECK(s.challenge.algorithm == DigestAlgorithm::Md5);
}

TEST_CASE("non-Digest challenges are skipped") {
    const auto s = pick({"Basic realm=\"example.com\"", challenge("SHA-256")});
    CHECK(s.challenge.algorithm == DigestAlgorithm::Sha256);
}

TEST_CASE("nothing supported is an error naming what was offered") {
    const std::string e = pickError({challenge("SHA-1"), challenge("SHA3-256")});
    CHECK(e.find("no usable Digest challenge") != std::string::npos);
    CHECK(e.find("SHA-1") != std::string::npos);
    CHECK(e.find("SHA3-256") != std::string::npos);

    const std::string none = pickError({"Basic realm=\"x\"", "Bearer realm=\"y\""});
    CHECK(none.find("no Digest challenge offered") != std::string::npos);
    CHECK(none.find("Basic, Bearer") != std::string::npos);

    CHECK(pickError({}).find("no Digest challenge offered") != std::string::npos);
}

TEST_CASE("a pinned realm refuses challenges for another realm, naming both") {
    DigestOptions pinned;
    pinned.realmPin = "a.example.com";
    const std::string e = pickError({challenge("SHA-256", "b.example.com")}, passwordCredentials(), pinned);
    CHECK(e.find("\"a.example.com\"") != std::string::npos);
    CHECK(e.find("\"b.example.com\"") != std::string::npos);

    // With several realms offered, the pinned one is answered even if weaker.
    const auto s = pick({challenge("SHA-256", "b.example.com"), challenge("MD5", "a.example.com")},
                        passwordCredentials(), pinned);
    CHECK(s.challenge.realm == "a.example.com");
}

TEST_CASE("HA1-only credentials skip algorithms they have no HA1 for") {
    DigestCredentials md5Only;
    md5Only.username = "alice";
    REQUIRE(md5Only.setHa1("MD5", "939E7578ED9E3C518A452ACEE763BCE9").ok());
    const auto s = pick({challenge("SHA-256"), challenge("MD5")}, md5Only);
    CHECK(s.challenge.algorithm == DigestAlgorithm::Md5);
    // The MD5 HA1 also serves MD5-sess.
    CHECK(pick({challenge("MD5-sess")}, md5Only).challenge.algorithm == DigestAlgorithm::Md5Sess);

    const std::string e = pickError({challenge("SHA-256"), challenge("SHA-512-256")}, md5Only);
    CHECK(e.find("no password and no usable password_ha1 for SHA-256") != std::string::npos);
    CHECK(e.find("939e7578") == std::string::npos);
}

TEST_CASE("setHa1 validates algorithm and length without echoing the value") {
    DigestCredentials c;
    auto badAlgorithm = c.setHa1("SHA-1", "00");
    REQUIRE_FALSE(badAlgorithm.ok());
    CHECK(badAlgorithm.error().message.find("SHA-1") != std::string::npos);
    auto shortHex = c.setHa1("SHA-256", "939e7578ed9e3c518a452acee763bce9");
    REQUIRE_FALSE(shortHex.ok());
    CHECK(shortHex.error().message.find("64 hexadecimal digits") != std::string::npos);
    CHECK(shortHex.error().message.find("939e7578") == std::string::npos);
    CHECK_FALSE(c.setHa1("MD5", "zz9e7578ed9e3c518a452acee763bce9").ok());
    CHECK_FALSE(c.canAnswer(DigestAlgorithm::Sha256));
    CHECK_FALSE(c.hasAnySecret());
    REQUIRE(c.setHa1("sha-256-sess", std::string(64, 'A')).ok());
    REQUIRE(c.ha1For(DigestAlgorithm::Sha256).has_value());
    CHECK(*c.ha1For(DigestAlgorithm::Sha256) == std::string(64, 'a'));
    CHECK(c.canAnswer(DigestAlgorithm::Sha256Sess));
}
