#include <doctest/doctest.h>

#include <string>

#include "sip/typed_headers.h"
#include "support/reg_harness.h"

using namespace sipreg;
using namespace sipreg::reg;
using namespace std::chrono_literals;
using test::RegHarness;
using test::ResponseSpec;

namespace {

ResponseSpec challenge(const std::string& nonce, bool stale = false, int code = 401) {
    ResponseSpec s;
    s.code = code;
    s.reason = code == 401 ? "Unauthorized" : "Proxy Authentication Required";
    s.headers.push_back(std::string(code == 401 ? "WWW-Authenticate" : "Proxy-Authenticate") +
                        ": Digest realm=\"example.com\", nonce=\"" + nonce +
                        "\", qop=\"auth\", algorithm=MD5" + (stale ? ", stale=true" : ""));
    return s;
}

ResponseSpec ok() { return ResponseSpec{}; }

struct Credentials {
    std::string username, realm, nonce, nc, uri;
    bool present = false;
};

Credentials credentialsOf(const sip::Message& m, sip::HeaderId id = sip::HeaderId::Authorization) {
    Credentials c;
    auto value = m.header(id);
    if (!value) return c;
    auto parsed = sip::parseAuthValues(*value);
    REQUIRE(parsed.ok());
    REQUIRE(parsed->size() == 1);
    const auto& p = parsed->front().params;
    c.present = true;
    c.username = p.unquoted("username").value_or("");
    c.realm = p.unquoted("realm").value_or("");
    c.nonce = p.unquoted("nonce").value_or("");
    c.nc = p.unquoted("nc").value_or("");
    c.uri = p.unquoted("uri").value_or("");
    return c;
}

}  // namespace

TEST_CASE("401 is answered with digest credentials in the same attempt") {
    RegHarness h;
    h.start();
    h.respond(challenge("n1"));
    REQUIRE(h.registersSent() == 2);
    CHECK(h.state() == State::Registering);
    auto c = credentialsOf(h.lastRegisterMessage());
    REQUIRE(c.present);
    CHECK(c.username == "alice");
    CHECK(c.realm == "example.com");
    CHECK(c.nonce == "n1");
    CHECK(c.nc == "00000001");
    CHECK(c.uri == "sip:example.com");
    h.respond(ok());
    CHECK(h.state() == State::Registered);
    CHECK(h.machine->counters().challenged == 1);
    // No secret leaks into state texts.
    for (const auto& a : h.changes) CHECK(a.text.find("secret") == std::string::npos);
}

TEST_CASE("407 is answered in Proxy-Authorization") {
    RegHarness h;
    h.start();
    h.respond(challenge("p1", false, 407));
    auto c = credentialsOf(h.lastRegisterMessage(), sip::HeaderId::ProxyAuthorization);
    CHECK(c.present);
    CHECK(c.nonce == "p1");
}

TEST_CASE("refreshes authenticate preemptively with the kept nonce: one round trip, nc incremented") {
    RegHarness h;
    h.start();
    h.respond(challenge("n1"));
    h.respond(ok());
    for (int i = 2; i <= 4; ++i) {
        h.advanceTo(h.timer(TimerKind::Refresh).value());
        auto c = credentialsOf(h.lastRegisterMessage());
        REQUIRE(c.present);
        CHECK(c.nonce == "n1");
        CHECK(c.nc == "0000000" + std::to_string(i));
        const auto before = h.registersSent();
        h.respond(ok());
        CHECK(h.registersSent() == before);  // no challenge round trip
        CHECK(h.state() == State::Registered);
    }
}

TEST_CASE("a refused preemptive nonce falls back to the challenge path, not a failure") {
    RegHarness h;
    h.start();
    h.respond(challenge("n1"));
    h.respond(ok());
    h.advanceTo(h.timer(TimerKind::Refresh).value());
    h.respond(challenge("n2"));  // the registrar expired n1 and does not say stale
    CHECK(h.state() == State::Registered);
    auto c = credentialsOf(h.lastRegisterMessage());
    CHECK(c.nonce == "n2");
    CHECK(c.nc == "00000001");
    h.respond(ok());
    CHECK(h.state() == State::Registered);
    CHECK(h.machine->counters().preemptiveRejected == 1);
    CHECK(h.machine->counters().authRejected == 0);
}

TEST_CASE("stale=true is not a failure") {
    RegHarness h;
    h.start();
    h.respond(challenge("n1"));
    h.respond(challenge("n2", /*stale=*/true));
    CHECK(h.state() == State::Registering);
    CHECK(credentialsOf(h.lastRegisterMessage()).nonce == "n2");
    h.respond(ok());
    CHECK(h.state() == State::Registered);
    CHECK(h.machine->counters().staleNonces == 1);
}

TEST_CASE("a second rejection of the same credentials fails the line; the retry starts afresh") {
    RegHarness h;
    const auto t0 = h.clock.now();
    h.start();
    h.respond(challenge("n1"));
    h.respond(challenge("n2"));  // wrong password: challenged again without stale
    CHECK(h.state() == State::Failed);
    CHECK(h.registersSent() == 2);
    CHECK(h.machine->counters().authRejected == 1);
    CHECK(h.changes.back().statusCode == 401);
    CHECK(h.changes.back().text.find("credentials rejected") != std::string::npos);
    const auto retry = h.timer(TimerKind::Retry).value();
    CHECK(retry >= t0 + 600s);
    h.advanceTo(retry);
    CHECK(h.state() == State::Registering);
    CHECK_FALSE(credentialsOf(h.lastRegisterMessage()).present);
    h.respond(challenge("n3"));
    CHECK(credentialsOf(h.lastRegisterMessage()).present);
    h.respond(ok());
    CHECK(h.state() == State::Registered);
}

TEST_CASE("no tight loop with a wrong password: two REGISTERs per failed_retry") {
    RegHarness h;
    const auto t0 = h.clock.now();
    h.start();
    for (int guard = 0; guard < 100 && h.clock.now() < t0 + 3600s; ++guard) {
        if (h.state() == State::Registering) {
            auto c = credentialsOf(h.lastRegisterMessage());
            h.respond(challenge(c.present ? "again" : "first"));
        } else {
            h.advanceTo(h.timer(TimerKind::Retry).value());
        }
    }
    CHECK(h.registersSent() <= 2 * 7);
    CHECK(h.machine->counters().authRejected >= 5);
}

TEST_CASE("lesson: a 401 on the unregister is answered like the first one") {
    RegHarness h;
    h.start();
    h.respond(challenge("n1"));
    h.respond(ok());
    h.send(Event::stop());
    h.respond(challenge("n9"));
    CHECK(h.state() == State::Unregistering);
    auto m = h.lastRegisterMessage();
    CHECK(h.lastRegister().purpose == RequestPurpose::Unregister);
    CHECK(credentialsOf(m).nonce == "n9");
    CHECK(sip::expires(m).value().value() == 0u);
    h.respond(ok());
    CHECK(h.state() == State::Stopped);
    CHECK(h.changes.back().text == "unregistered");
}

TEST_CASE("lesson: a 401 on a refresh of a line that never kept a nonce is answered too") {
    RegHarness h;
    h.start();
    h.respond(ok());  // open registrar at first
    h.advanceTo(h.timer(TimerKind::Refresh).value());
    h.respond(challenge("n1"));  // now it wants credentials
    CHECK(h.state() == State::Registered);
    CHECK(credentialsOf(h.lastRegisterMessage()).present);
    h.respond(ok());
    CHECK(h.state() == State::Registered);
}

TEST_CASE("credentials given as HA1 answer the challenge without a password") {
    auto s = test::basicLine();
    s.credentials.password.reset();
    // MD5("alice:example.com:secret")
    REQUIRE(s.credentials.setHa1("MD5", "b1726872c344b6dc8365b774f8fd6412").ok());
    s.digest.realmPin = "example.com";
    RegHarness h(s);
    h.start();
    h.respond(challenge("n1"));
    CHECK(credentialsOf(h.lastRegisterMessage()).present);
}

TEST_CASE("a challenge that cannot be answered fails the line with the reason") {
    auto s = test::basicLine();
    s.digest.realmPin = "other.example";
    RegHarness h(s);
    h.start();
    h.respond(challenge("n1"));
    CHECK(h.state() == State::Failed);
    CHECK(h.changes.back().text.find("cannot answer") != std::string::npos);
    CHECK(h.registersSent() == 1);
}
