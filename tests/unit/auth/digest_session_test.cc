#include <doctest/doctest.h>

#include <set>

#include "auth/digest_response.h"
#include "auth/digest_session.h"
#include "auth/redaction.h"
#include "auth_test_support.h"
#include "crypto/random_token.h"

using namespace sipreg::auth;
using sipreg::auth::test::ParsedChallenges;
using sipreg::auth::test::ParsedCredentials;
using sipreg::auth::test::parseCredentials;
using sipreg::crypto::DeterministicRandomSource;

namespace {

constexpr const char* kUser = "alice";
constexpr const char* kPassword = "s3cr3t-P@ss";
constexpr const char* kRealm = "example.com";
constexpr const char* kUri = "sip:example.com";

DigestCredentials passwordCredentials() {
    DigestCredentials c;
    c.username = kUser;
    c.password = kPassword;
    return c;
}

std::string challenge(const std::string& nonce, const std::string& extra = ", qop=\"auth\"",
                      const std::string& realm = kRealm) {
    return "Digest realm=\"" + realm + "\", nonce=\"" + nonce + "\"" + extra;
}

ChallengeOutcome challengeWith(DigestSession& session, const std::vector<std::string>& headers,
                               bool isProxy = false) {
    ParsedChallenges p(headers);
    auto r = session.onChallenge(p.values(), isProxy);
    REQUIRE_MESSAGE(r.ok(), r.error().message);
    return r.value();
}

std::string authorizeOne(DigestSession& session, const std::string& method = "REGISTER",
                         const std::string& body = "") {
    auto r = session.authorize(method, kUri, body);
    REQUIRE_MESSAGE(r.ok(), r.error().message);
    REQUIRE(r.value().size() == 1);
    return r.value().front().value;
}

// Recomputes the response from the sent parameters and the password, independently of the
// session's own bookkeeping.
std::string expectedResponse(const ParsedCredentials& sent, DigestAlgorithm algorithm, Qop qop,
                             const std::string& method = "REGISTER", const std::string& body = "") {
    auto ha1 = computeHa1(algorithm, kUser, sent.at("realm"), kPassword);
    REQUIRE(ha1.ok());
    DigestResponseInput in;
    in.algorithm = algorithm;
    in.ha1 = ha1.value();
    in.nonce = sent.at("nonce");
    in.method = method;
    in.uri = sent.at("uri");
    in.qop = qop;
    const std::string cnonce = sent.has("cnonce") ? sent.at("cnonce") : "";
    const std::string nc = sent.has("nc") ? sent.at("nc") : "";
    in.cnonce = cnonce;
    in.nc = nc;
    in.body = body;
    auto r = computeResponse(in);
    REQUIRE(r.ok());
    return r.value();
}

}  // namespace

TEST_CASE("no challenge yet: nothing to add") {
    DeterministicRandomSource random(1);
    DigestSession session(passwordCredentials(), random);
    CHECK_FALSE(session.hasKeptChallenge());
    auto r = session.authorize("REGISTER", kUri);
    REQUIRE(r.ok());
    CHECK(r.value().empty());
}

TEST_CASE("answering an MD5 qop=auth challenge") {
    DeterministicRandomSource random(1);
    DigestSession session(passwordCredentials(), random);
    const auto outcome = challengeWith(session, {challenge("n1", ", qop=\"auth\", opaque=\"op/aque\"")});
    CHECK(outcome.verdict == ChallengeVerdict::FirstChallenge);
    CHECK(outcome.retry);
    CHECK(outcome.realm == kRealm);
    CHECK(outcome.algorithm == DigestAlgorithm::Md5);
    CHECK(outcome.qop == Qop::Auth);
    CHECK_FALSE(outcome.proxy);
    CHECK(session.hasKeptChallenge());

    auto fields = session.authorize("REGISTER", kUri);
    REQUIRE(fields.ok());
    REQUIRE(fields.value().size() == 1);
    CHECK(fields.value()[0].header == sipreg::sip::HeaderId::Authorization);
    const std::string& value = fields.value()[0].value;
    CHECK(value.find(kPassword) == std::string::npos);
    CHECK(value.find(", qop=auth, nc=00000001") != std::string::npos);

    const auto sent = parseCredentials(value);
    CHECK(sent.scheme == "Digest");
    CHECK(sent.at("username") == kUser);
    CHECK(sent.at("realm") == kRealm);
    CHECK(sent.at("nonce") == "n1");
    CHECK(sent.at("uri") == kUri);
    CHECK(sent.at("opaque") == "op/aque");
    CHECK(sent.at("qop") == "auth");
    CHECK(sent.at("nc") == "00000001");
    CHECK_FALSE(sent.has("algorithm"));  // the challenge named none
    CHECK_FALSE(sent.has("userhash"));
    CHECK(sent.at("response") == expectedResponse(sent, DigestAlgorithm::Md5, Qop::Auth));
    CHECK(session.nonceCount(kRealm, false) == 1);
}

TEST_CASE("the cnonce comes from the injected source and differs per request") {
    DeterministicRandomSource random(77);
    DeterministicRandomSource replay(77);
    DigestSession session(passwordCredentials(), random);
    challengeWith(session, {challenge("n1")});
    const auto first = parseCredentials(authorizeOne(session));
    const auto second = parseCredentials(authorizeOne(session));
    CHECK(first.at("cnonce") == sipreg::crypto::randomToken(replay, 16));
    CHECK(second.at("cnonce") == sipreg::crypto::randomToken(replay, 16));
    CHECK(first.at("cnonce") != second.at("cnonce"));
    CHECK(random.fillCount() == 2);
}

TEST_CASE("a real OpenSSL source gives distinct cnonces") {
    sipreg::crypto::OpenSslRandomSource random;
    DigestSession session(passwordCredentials(), random);
    challengeWith(session, {challenge("n1")});
    std::set<std::string> cnonces;
    for (int i = 0; i < 16; ++i) cnonces.insert(parseCredentials(authorizeOne(session)).at("cnonce"));
    CHECK(cnonces.size() == 16);
}

TEST_CASE("nc counts per nonce and restarts with a new nonce") {
    DeterministicRandomSource random(2);
    DigestSession session(passwordCredentials(), random);
    challengeWith(session, {challenge("n1")});
    auto a = parseCredentials(authorizeOne(session));
    CHECK(a.at("nc") == "00000001");
    session.onAuthenticated();
    // A refresh reuses the kept nonce preemptively.
    auto b = parseCredentials(authorizeOne(session));
    CHECK(b.at("nonce") == "n1");
    CHECK(b.at("nc") == "00000002");
    CHECK(b.at("response") == expectedResponse(b, DigestAlgorithm::Md5, Qop::Auth));
    auto c = parseCredentials(authorizeOne(session));
    CHECK(c.at("nc") == "00000003");

    challengeWith(session, {challenge("n2", ", qop=\"auth\", stale=true")});
    auto d = parseCredentials(authorizeOne(session));
    CHECK(d.at("nonce") == "n2");
    CHECK(d.at("nc") == "00000001");
    CHECK(session.nonceCount(kRealm, false) == 1);

    // The same nonce challenged again keeps counting: the server has seen 1 already.
    challengeWith(session, {challenge("n2", ", qop=\"auth\", stale=true")});
    CHECK(parseCredentials(authorizeOne(session)).at("nc") == "00000002");
}

TEST_CASE("algorithm is echoed exactly when the challenge named it") {
    DeterministicRandomSource random(3);
    {
        DigestSession session(passwordCredentials(), random);
        challengeWith(session, {challenge("n1", ", qop=\"auth\", algorithm=md5")});
        const auto sent = parseCredentials(authorizeOne(session));
        CHECK(sent.at("algorithm") == "md5");
        CHECK(authorizeOne(session).find("algorithm=md5,") != std::string::npos);  // unquoted
    }
    {
        DigestSession session(passwordCredentials(), random);
        challengeWith(session, {challenge("n1", ", qop=\"auth\", algorithm=\"SHA-256\"")});
        const auto sent = parseCredentials(authorizeOne(session));
        CHECK(sent.at("algorithm") == "SHA-256");
        CHECK(sent.at("response").size() == 64);
        CHECK(sent.at("response") == expectedResponse(sent, DigestAlgorithm::Sha256, Qop::Auth));
    }
    {
        DigestSession session(passwordCredentials(), random);
        challengeWith(session, {challenge("n1", "")});
        const std::string value = authorizeOne(session);
        CHECK(value.find("algorithm") == std::string::npos);
        CHECK(value.find("opaque") == std::string::npos);
    }
}

TEST_CASE("no qop: RFC 2069 response without cnonce or nc") {
    DeterministicRandomSource random(4);
    DigestSession session(passwordCredentials(), random);
    challengeWith(session, {challenge("n1", ", algorithm=SHA-512-256")});
    const auto sent = parseCredentials(authorizeOne(session));
    CHECK_FALSE(sent.has("qop"));
    CHECK_FALSE(sent.has("nc"));
    CHECK_FALSE(sent.has("cnonce"));
    CHECK(random.fillCount() == 0);
    CHECK(sent.at("response") == expectedResponse(sent, DigestAlgorithm::Sha512_256, Qop::None));
}

TEST_CASE("auth-int hashes the body") {
    DeterministicRandomSource random(5);
    DigestOptions options;
    options.preferAuthInt = true;
    DigestSession session(passwordCredentials(), random, options);
    const auto outcome = challengeWith(session, {challenge("n1", ", qop=\"auth,auth-int\", algorithm=SHA-256")});
    CHECK(outcome.qop == Qop::AuthInt);
    const std::string body = "hello\r\nworld\r\n";
    const auto sent = parseCredentials(authorizeOne(session, "REGISTER", body));
    CHECK(sent.at("qop") == "auth-int");
    CHECK(sent.at("response") == expectedResponse(sent, DigestAlgorithm::Sha256, Qop::AuthInt, "REGISTER", body));
    CHECK(sent.at("response") != expectedResponse(sent, DigestAlgorithm::Sha256, Qop::AuthInt, "REGISTER", ""));
}

TEST_CASE("HA1-only credentials give the same credentials as the password") {
    for (const char* algorithm : {"MD5", "MD5-sess", "SHA-256", "SHA-256-sess", "SHA-512-256", "SHA-512-256-sess"}) {
        CAPTURE(algorithm);
        const auto parsedAlgorithm = parseDigestAlgorithm(algorithm);
        REQUIRE(parsedAlgorithm.has_value());
        auto ha1 = computeHa1(*parsedAlgorithm, kUser, kRealm, kPassword);
        REQUIRE(ha1.ok());
        DigestCredentials ha1Only;
        ha1Only.username = kUser;
        REQUIRE(ha1Only.setHa1(algorithmToken(baseOf(*parsedAlgorithm)), ha1.value()).ok());

        DeterministicRandomSource r1(9), r2(9);
        DigestSession withPassword(passwordCredentials(), r1);
        DigestSession withHa1(ha1Only, r2);
        const std::string header =
            challenge("n1", std::string(", qop=\"auth\", opaque=\"o\", algorithm=") + algorithm);
        challengeWith(withPassword, {header});
        challengeWith(withHa1, {header});
        const std::string a = authorizeOne(withPassword);
        const std::string b = authorizeOne(withHa1);
        CHECK(a == b);
        CHECK(parseCredentials(a).at("response") ==
              expectedResponse(parseCredentials(a), *parsedAlgorithm, Qop::Auth));
    }
}

TEST_CASE("userhash: username is H(username:realm) and userhash=true is sent") {
    DeterministicRandomSource random(6);
    DigestCredentials creds;
    creds.username = "J\xC3\xA4s\xC3\xB8n Doe";
    creds.password = "Secret, or not?";
    DigestSession session(creds, random);
    challengeWith(session, {"Digest realm=\"api@example.org\", qop=\"auth\", algorithm=SHA-512-256, "
                            "nonce=\"5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK\", "
                            "opaque=\"HRPCssKJSGjCrkzDg8OhwpzCiGPChXYjwrI2QmXDnsOS\", charset=UTF-8, userhash=true"});
    const std::string value = authorizeOne(session, "GET");
    const auto sent = parseCredentials(value);
    CHECK(sent.at("username") == "793263caabb707a56211940d90411ea4a575adeccb7e360aeb624ed06ece9b0b");
    CHECK(sent.at("userhash") == "true");
    CHECK(value.find("userhash=true") != std::string::npos);
    // The response still uses the plain username in HA1.
    auto ha1 = computeHa1(DigestAlgorithm::Sha512_256, creds.username, "api@example.org", *creds.password);
    REQUIRE(ha1.ok());
    DigestResponseInput in;
    in.algorithm = DigestAlgorithm::Sha512_256;
    in.ha1 = ha1.value();
    const std::string nonce = sent.at("nonce"), uri = sent.at("uri"), cnonce = sent.at("cnonce");
    in.nonce = nonce;
    in.method = "GET";
    in.uri = uri;
    in.qop = Qop::Auth;
    in.cnonce = cnonce;
    in.nc = "00000001";
    auto expected = computeResponse(in);
    REQUIRE(expected.ok());
    CHECK(sent.at("response") == expected.value());
}

TEST_CASE("quoting edge cases survive into the credentials") {
    DeterministicRandomSource random(7);
    DigestSession session(passwordCredentials(), random);
    challengeWith(session, {R"(digest realm="My \"Home\" Realm", nonce="a\\b", opaque="x\"y")"});
    const std::string value = authorizeOne(session);
    CHECK(value.find(R"(realm="My \"Home\" Realm")") != std::string::npos);
    const auto sent = parseCredentials(value);
    CHECK(sent.at("realm") == "My \"Home\" Realm");
    CHECK(sent.at("nonce") == "a\\b");
    CHECK(sent.at("opaque") == "x\"y");
    CHECK_FALSE(sent.has("qop"));
    CHECK(sent.at("response") == expectedResponse(sent, DigestAlgorithm::Md5, Qop::None));
}

TEST_CASE("strongest of several challenges is answered") {
    DeterministicRandomSource random(8);
    DigestSession session(passwordCredentials(), random);
    const auto outcome = challengeWith(session, {
        "Digest realm=\"http-auth@example.org\", qop=\"auth, auth-int\", algorithm=MD5, nonce=\"m\", opaque=\"o\"",
        "Digest realm=\"http-auth@example.org\", qop=\"auth, auth-int\", algorithm=SHA-256, nonce=\"s\", opaque=\"o\""});
    CHECK(outcome.algorithm == DigestAlgorithm::Sha256);
    CHECK(outcome.qop == Qop::Auth);
    const auto sent = parseCredentials(authorizeOne(session));
    CHECK(sent.at("nonce") == "s");
    CHECK(sent.at("algorithm") == "SHA-256");
}

TEST_CASE("stale nonce versus rejected credentials") {
    DeterministicRandomSource random(10);
    DigestSession session(passwordCredentials(), random);

    SUBCASE("same nonce challenged again after answering: rejected") {
        challengeWith(session, {challenge("n1")});
        authorizeOne(session);
        const auto o = challengeWith(session, {challenge("n1")});
        CHECK(o.verdict == ChallengeVerdict::Rejected);
        CHECK_FALSE(o.retry);
    }
    SUBCASE("new nonce without stale after answering: rejected") {
        challengeWith(session, {challenge("n1")});
        authorizeOne(session);
        const auto o = challengeWith(session, {challenge("n2")});
        CHECK(o.verdict == ChallengeVerdict::Rejected);
        CHECK_FALSE(o.retry);
    }
    SUBCASE("stale=true after answering: retry with the new nonce") {
        challengeWith(session, {challenge("n1")});
        authorizeOne(session);
        const auto o = challengeWith(session, {challenge("n2", ", qop=\"auth\", stale=TRUE")});
        CHECK(o.verdict == ChallengeVerdict::StaleNonce);
        CHECK(o.retry);
        CHECK(o.challengesInARow == 2);
    }
    SUBCASE("preemptive refresh refused without stale: one more answer") {
        challengeWith(session, {challenge("n1")});
        authorizeOne(session);
        session.onAuthenticated();
        authorizeOne(session);  // refresh with the kept nonce
        const auto o = challengeWith(session, {challenge("n2")});
        CHECK(o.verdict == ChallengeVerdict::KeptNonceRefused);
        CHECK(o.retry);
        CHECK(o.challengesInARow == 1);
        authorizeOne(session);
        const auto again = challengeWith(session, {challenge("n3")});
        CHECK(again.verdict == ChallengeVerdict::Rejected);
        CHECK_FALSE(again.retry);
    }
    SUBCASE("preemptive refresh challenged with the same nonce without stale: rejected") {
        challengeWith(session, {challenge("n1")});
        authorizeOne(session);
        session.onAuthenticated();
        authorizeOne(session);
        const auto o = challengeWith(session, {challenge("n1")});
        CHECK(o.verdict == ChallengeVerdict::Rejected);
        CHECK_FALSE(o.retry);
    }
    SUBCASE("preemptive refresh answered with stale=true: stale nonce") {
        challengeWith(session, {challenge("n1")});
        authorizeOne(session);
        session.onAuthenticated();
        authorizeOne(session);
        const auto o = challengeWith(session, {challenge("n2", ", qop=\"auth\", stale=true")});
        CHECK(o.verdict == ChallengeVerdict::StaleNonce);
        CHECK(o.retry);
        CHECK(parseCredentials(authorizeOne(session)).at("nc") == "00000001");
    }
    SUBCASE("a challenge to a request sent without credentials is a first challenge") {
        challengeWith(session, {challenge("n1")});
        authorizeOne(session);
        session.onAuthenticated();
        const auto o = challengeWith(session, {challenge("n2")});
        CHECK(o.verdict == ChallengeVerdict::FirstChallenge);
        CHECK(o.retry);
    }
    SUBCASE("endless stale challenges stop being retried") {
        challengeWith(session, {challenge("n0")});
        bool retried = true;
        uint32_t rounds = 0;
        for (uint32_t i = 1; i <= 10 && retried; ++i) {
            authorizeOne(session);
            const auto o = challengeWith(session, {challenge("n" + std::to_string(i), ", qop=\"auth\", stale=true")});
            CHECK(o.verdict == ChallengeVerdict::StaleNonce);
            retried = o.retry;
            ++rounds;
        }
        CHECK_FALSE(retried);
        CHECK(rounds == DigestSession::kMaxChallengesInARow);
    }
}

TEST_CASE("407 challenges are answered in Proxy-Authorization, alongside Authorization") {
    DeterministicRandomSource random(11);
    DigestSession session(passwordCredentials(), random);
    const auto proxy = challengeWith(session, {challenge("p1", ", qop=\"auth\"", "proxy.example.com")}, true);
    CHECK(proxy.proxy);
    challengeWith(session, {challenge("r1")}, false);
    auto fields = session.authorize("REGISTER", kUri);
    REQUIRE(fields.ok());
    REQUIRE(fields.value().size() == 2);
    CHECK(fields.value()[0].header == sipreg::sip::HeaderId::ProxyAuthorization);
    CHECK(parseCredentials(fields.value()[0].value).at("realm") == "proxy.example.com");
    CHECK(fields.value()[1].header == sipreg::sip::HeaderId::Authorization);
    CHECK(parseCredentials(fields.value()[1].value).at("realm") == kRealm);
    CHECK(session.nonceCount("proxy.example.com", true) == 1);
    CHECK(session.nonceCount("proxy.example.com", false) == 0);

    session.forget();
    CHECK_FALSE(session.hasKeptChallenge());
}

TEST_CASE("realm pin and errors from onChallenge") {
    DeterministicRandomSource random(12);
    DigestOptions options;
    options.realmPin = "example.com";
    DigestSession session(passwordCredentials(), random, options);
    CHECK(session.hasCredentialsFor("example.com"));
    CHECK_FALSE(session.hasCredentialsFor("other.example.com"));

    ParsedChallenges other({challenge("n1", ", qop=\"auth\"", "other.example.com")});
    auto r = session.onChallenge(other.values(), false);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find("other.example.com") != std::string::npos);
    CHECK(r.error().message.find("\"example.com\"") != std::string::npos);
    CHECK(r.error().message.find(kPassword) == std::string::npos);
    CHECK_FALSE(session.hasKeptChallenge());

    ParsedChallenges unsupported({challenge("n1", ", algorithm=SHA-1")});
    auto u = session.onChallenge(unsupported.values(), false);
    REQUIRE_FALSE(u.ok());
    CHECK(u.error().message.find("SHA-1") != std::string::npos);

    DigestCredentials noSecret;
    noSecret.username = kUser;
    DigestSession empty(noSecret, random);
    CHECK_FALSE(empty.hasCredentialsFor("example.com"));
}

TEST_CASE("onChallenge reads the challenge headers of a 401 or 407 response") {
    DeterministicRandomSource random(13);
    DigestSession session(passwordCredentials(), random);
    const std::string response =
        "SIP/2.0 407 Proxy Authentication Required\r\n"
        "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776asdhds\r\n"
        "From: <sip:alice@example.com>;tag=1928301774\r\n"
        "To: <sip:alice@example.com>;tag=as1\r\n"
        "Call-ID: a84b4c76e66710\r\n"
        "CSeq: 1 REGISTER\r\n"
        "Proxy-Authenticate: Digest realm=\"example.com\", nonce=\"m\", algorithm=MD5, qop=\"auth\"\r\n"
        "Proxy-Authenticate: Digest realm=\"example.com\", nonce=\"s\", algorithm=SHA-256, qop=\"auth\"\r\n"
        "Content-Length: 0\r\n\r\n";
    auto message = sipreg::sip::parseDatagram(response);
    REQUIRE_MESSAGE(message.ok(), message.error().message);
    auto outcome = session.onChallenge(message.value());
    REQUIRE_MESSAGE(outcome.ok(), outcome.error().message);
    CHECK(outcome.value().proxy);
    CHECK(outcome.value().algorithm == DigestAlgorithm::Sha256);
    auto fields = session.authorize("REGISTER", kUri);
    REQUIRE(fields.ok());
    REQUIRE(fields.value().size() == 1);
    CHECK(fields.value()[0].header == sipreg::sip::HeaderId::ProxyAuthorization);

    const std::string ok =
        "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1\r\n"
        "From: <sip:a@example.com>;tag=1\r\nTo: <sip:a@example.com>;tag=2\r\nCall-ID: x\r\n"
        "CSeq: 2 REGISTER\r\nContent-Length: 0\r\n\r\n";
    auto okMessage = sipreg::sip::parseDatagram(ok);
    REQUIRE(okMessage.ok());
    CHECK_FALSE(session.onChallenge(okMessage.value()).ok());
}

TEST_CASE("redacting the produced credentials hides response, cnonce and nonce") {
    DeterministicRandomSource random(14);
    DigestSession session(passwordCredentials(), random);
    challengeWith(session, {challenge("n0nce-value", ", qop=\"auth\", algorithm=SHA-256")});
    const std::string value = authorizeOne(session);
    const auto sent = parseCredentials(value);
    const std::string redacted = redactAuthorization(value);
    CHECK(redacted.find(sent.at("response")) == std::string::npos);
    CHECK(redacted.find(sent.at("cnonce")) == std::string::npos);
    CHECK(redacted.find("n0nce-value") == std::string::npos);
    CHECK(redacted.find("username=\"alice\"") != std::string::npos);
    CHECK(redacted.find("realm=\"example.com\"") != std::string::npos);
    CHECK(redacted.find("algorithm=SHA-256") != std::string::npos);
}

TEST_CASE("the HA1 kept from the password follows the algorithm when the realm's challenge changes it") {
    DeterministicRandomSource random(11);
    DigestSession session(passwordCredentials(), random);
    for (const auto& [algorithm, text] : {std::pair{DigestAlgorithm::Md5, "MD5"},
                                          std::pair{DigestAlgorithm::Sha256, "SHA-256"},
                                          std::pair{DigestAlgorithm::Md5, "MD5"}}) {
        challengeWith(session, {challenge(std::string("n-") + text, std::string(", qop=\"auth\", algorithm=") + text)});
        // Twice per challenge: the second request uses the kept HA1 and nonce.
        for (int i = 0; i < 2; ++i) {
            ParsedCredentials sent = parseCredentials(authorizeOne(session));
            CHECK(sent.at("response") == expectedResponse(sent, algorithm, Qop::Auth));
        }
        session.onAuthenticated();
    }
}
