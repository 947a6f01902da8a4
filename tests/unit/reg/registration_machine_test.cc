#include <doctest/doctest.h>

#include <set>
#include <string>

#include "sip/typed_headers.h"
#include "support/reg_harness.h"

using namespace sipreg;
using namespace sipreg::reg;
using namespace std::chrono_literals;
using test::RegHarness;
using test::ResponseSpec;

namespace {

ResponseSpec ok(std::vector<std::string> headers = {}) {
    ResponseSpec s;
    s.headers = std::move(headers);
    return s;
}

ResponseSpec status(int code, std::string reason, std::vector<std::string> headers = {}) {
    ResponseSpec s;
    s.code = code;
    s.reason = std::move(reason);
    s.headers = std::move(headers);
    return s;
}

std::string contactOf(const RegHarness& h) {
    return "Contact: <" + std::string(h.machine->contactUri()) + ">";
}

uint32_t expiresAsked(const sip::Message& m) { return sip::expires(m).value().value(); }

// Registers with a 200 granting `granted` on our Contact; returns the refresh time.
TimePoint registerOnce(RegHarness& h, int granted = 600) {
    h.start();
    h.respond(ok({contactOf(h) + ";expires=" + std::to_string(granted)}));
    REQUIRE(h.state() == State::Registered);
    return h.timer(TimerKind::Refresh).value();
}

}  // namespace

TEST_CASE("REGISTER is built correctly") {
    RegHarness h;
    h.start();
    REQUIRE(h.sent.size() == 1);
    auto m = h.lastRegisterMessage();
    CHECK(m.method() == "REGISTER");
    CHECK(m.requestUriText() == "sip:example.com");
    auto to = sip::toHeader(m).value();
    auto from = sip::fromHeader(m).value();
    CHECK(to.displayName == "Alice");
    CHECK(to.uri.user == "alice");
    CHECK(to.uri.host == "example.com");
    CHECK(to.tag().empty());
    CHECK(from.displayName == "Alice");
    CHECK(from.uri.host == "example.com");
    CHECK(from.tag().size() >= 8);
    auto vias = sip::vias(m).value();
    REQUIRE(vias.size() == 1);
    CHECK(vias[0].transport == "UDP");
    CHECK(vias[0].host == "192.0.2.10");
    CHECK(vias[0].port == 5060);
    CHECK(vias[0].hasRport());
    CHECK(vias[0].branch().substr(0, 7) == "z9hG4bK");
    CHECK(vias[0].branch().size() > 7 + 8);
    CHECK(vias[0].branch() == h.sent[0].branch);
    auto contacts = sip::contacts(m).value();
    REQUIRE(contacts.size() == 1);
    CHECK(contacts[0].address.uri.user == "alice");
    CHECK(contacts[0].address.uri.host == "192.0.2.10");
    CHECK(contacts[0].address.uri.port == 5060);
    CHECK_FALSE(contacts[0].address.uri.param("transport").has_value());
    CHECK(contacts[0].expires() == 600u);
    CHECK(expiresAsked(m) == 600);
    CHECK(sip::maxForwards(m).value() == 70u);
    CHECK(sip::cseq(m)->number == 1);
    CHECK(sip::cseq(m)->method == "REGISTER");
    CHECK(m.header(sip::HeaderId::UserAgent).value() == "sipregd-test");
    CHECK(m.header(sip::HeaderId::Allow).value() == "INVITE, ACK, CANCEL, BYE, OPTIONS, NOTIFY");
    CHECK(m.header(sip::HeaderId::Supported).value() == "path");
    CHECK_FALSE(m.header(sip::HeaderId::Authorization).has_value());
    CHECK(sip::callId(m).value() == h.machine->callId());
    CHECK(h.changes.size() == 1);
    CHECK(h.changes[0].to == State::Registering);
    CHECK(h.machine->counters().registerSent == 1);
}

TEST_CASE("From tag and Call-ID are stable, CSeq increases, every transaction has a new branch") {
    RegHarness h;
    const auto refreshAt = registerOnce(h);
    h.advanceTo(refreshAt);
    h.respond(ok());
    h.advanceTo(h.timer(TimerKind::Refresh).value());
    REQUIRE(h.sent.size() == 3);
    std::set<std::string> branches;
    for (std::size_t i = 0; i < h.sent.size(); ++i) {
        auto m = test::parseSip(h.sent[i].bytes);
        CHECK(sip::callId(m).value() == sip::callId(h.lastRegisterMessage()).value());
        CHECK(sip::fromHeader(m)->tag() == sip::fromHeader(h.lastRegisterMessage())->tag());
        CHECK(sip::cseq(m)->number == i + 1);
        branches.insert(h.sent[i].branch);
    }
    CHECK(branches.size() == 3);
}

TEST_CASE("Request-URI is the registrar's scheme, host and port; TCP shows in Via and Contact") {
    auto s = test::basicLine();
    s.registrar = "sip:registrar.example.net:5070;lr";
    s.transport = txn::TransportKind::Tcp;
    s.contactUser = "line7";
    RegHarness h(s);
    h.start();
    auto m = h.lastRegisterMessage();
    CHECK(m.requestUriText() == "sip:registrar.example.net:5070");
    CHECK(sip::vias(m)->front().transport == "TCP");
    auto c = sip::contacts(m).value().at(0).address.uri;
    CHECK(c.user == "line7");
    CHECK(c.param("transport") == std::optional<std::string_view>("tcp"));
    CHECK(sip::toHeader(m)->uri.host == "example.com");  // the AOR, not the registrar
}

TEST_CASE("a configured contact is used verbatim; IPv6 local addresses are bracketed") {
    auto s = test::basicLine();
    s.contact = "sip:pbx-line@10.1.2.3:5080";
    RegHarness h(s);
    h.start();
    const auto sent = h.lastRegisterMessage();
    auto c = sip::contacts(sent).value().at(0).address.uri;
    CHECK(c.user == "pbx-line");
    CHECK(c.host == "10.1.2.3");
    CHECK(c.port == 5080);

    auto s6 = test::basicLine();
    s6.localHost = "2001:db8::10";
    RegHarness h6(s6);
    h6.start();
    auto m = h6.lastRegisterMessage();
    CHECK(sip::vias(m)->front().host == "2001:db8::10");
    CHECK(sip::contacts(m)->at(0).address.uri.host == "2001:db8::10");
}

TEST_CASE("invalid settings are refused with a message, not an exception") {
    crypto::DeterministicRandomSource rnd(1);
    auto s = test::basicLine();
    s.aor = "mailto:alice@example.com";
    auto r = RegistrationMachine::create(s, rnd);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find("aor") != std::string::npos);
    s = test::basicLine();
    s.localHost.clear();
    CHECK_FALSE(RegistrationMachine::create(s, rnd).ok());
    s = test::basicLine();
    s.expires = Seconds{0};
    CHECK_FALSE(RegistrationMachine::create(s, rnd).ok());
}

TEST_CASE("200 OK: registered with the granted interval, refresh before the lapse, Expiry armed") {
    RegHarness h;
    const auto t0 = h.clock.now();
    h.start();
    h.respond(ok({contactOf(h) + ";expires=600"}));
    CHECK(h.state() == State::Registered);
    REQUIRE(h.changes.size() == 2);
    const auto& c = h.changes.back();
    CHECK(c.from == State::Registering);
    CHECK(c.to == State::Registered);
    CHECK(c.statusCode == 200);
    CHECK(c.granted == 600s);
    CHECK(c.text.rfind("registered, expires 600 s, refresh in ", 0) == 0);
    CHECK(h.timer(TimerKind::Expiry) == t0 + 600s);
    const auto refresh = h.timer(TimerKind::Refresh).value();
    CHECK(refresh <= t0 + 528s);
    CHECK(refresh > t0 + 498s);
    CHECK(h.machine->bindingExpiresAt() == t0 + 600s);
    CHECK(h.machine->counters().registered == 1);
}

TEST_CASE("a refresh is one REGISTER, the state stays registered and a Refreshed action is reported") {
    RegHarness h;
    const auto refreshAt = registerOnce(h);
    h.advanceTo(refreshAt - 1ms);
    CHECK(h.sent.size() == 1);
    h.advanceTo(refreshAt);
    CHECK(h.sent.size() == 2);
    CHECK(h.state() == State::Registered);
    const auto changesBefore = h.changes.size();
    h.respond(ok({contactOf(h) + ";expires=600"}));
    REQUIRE(h.changes.size() == changesBefore + 1);
    CHECK(h.changes.back().kind == Action::Kind::Refreshed);
    CHECK(describe(h.changes.back()).rfind("registered, expires 600 s, refresh in", 0) == 0);
    CHECK(h.machine->counters().refreshed == 1);
}

TEST_CASE("granted interval: our Contact's expires among several, else Expires, else what we asked") {
    SUBCASE("our contact among others") {
        RegHarness h;
        h.start();
        h.respond(ok({"Contact: <sip:alice@198.51.100.1:5060>;expires=3000",
                      contactOf(h) + ";expires=300", "Expires: 900"}));
        CHECK(h.machine->lastGranted() == 300s);
    }
    SUBCASE("Expires header when our contact has no expires") {
        RegHarness h;
        h.start();
        h.respond(ok({"Contact: <sip:alice@198.51.100.1:5060>;expires=3000", "Expires: 900"}));
        CHECK(h.machine->lastGranted() == 900s);
    }
    SUBCASE("lesson: a 2xx with no expiry anywhere keeps the requested value") {
        RegHarness h;
        h.start();
        h.respond(ok());
        CHECK(h.machine->lastGranted() == 600s);
        CHECK(h.state() == State::Registered);
    }
}

TEST_CASE("lesson: always ask for the configured expiry, never the last granted value") {
    RegHarness h;
    h.start();
    for (int round = 0; round < 5; ++round) {
        CHECK(expiresAsked(h.lastRegisterMessage()) == 600);
        CHECK(sip::contacts(h.lastRegisterMessage())->at(0).expires() == 600u);
        const int granted = 599 - round;  // a registrar granting expires-1 each time
        h.respond(ok({contactOf(h) + ";expires=" + std::to_string(granted)}));
        CHECK(h.machine->lastGranted() == Seconds{granted});
        h.advanceTo(h.timer(TimerKind::Refresh).value());
    }
    CHECK(h.registersSent() == 6);
}

TEST_CASE("a 2xx granting 0 s is not a registration") {
    RegHarness h;
    h.start();
    h.respond(ok({contactOf(h) + ";expires=0"}));
    CHECK(h.state() == State::Waiting);
}

TEST_CASE("lesson: a lapsed binding is reported as not registered at the lapse, refresh still running") {
    RegHarness h;
    const auto t0 = h.clock.now();
    const auto refreshAt = registerOnce(h, 600);
    h.advanceTo(refreshAt);
    REQUIRE(h.sent.size() == 2);  // refresh in flight, no answer (e.g. queued behind the rate limit)
    h.advanceTo(t0 + 600s - 1ms);
    CHECK(h.state() == State::Registered);
    h.advanceTo(t0 + 600s);
    CHECK(h.state() == State::Registering);
    CHECK(h.changes.back().text == "binding lapsed, refresh still pending");
    CHECK_FALSE(h.machine->bindingExpiresAt().has_value());
    CHECK(h.machine->counters().lapses == 1);
    CHECK(h.sent.size() == 2);  // the pending refresh is not duplicated
    h.respond(ok());
    CHECK(h.state() == State::Registered);
    CHECK(h.changes.back().kind == Action::Kind::StateChanged);
}

TEST_CASE("a refresh that times out while the binding holds retries within a quarter of the time left") {
    auto s = test::basicLine();
    s.backoff = {Seconds{30}, Seconds{1800}};
    RegHarness h(s);
    const auto t0 = h.clock.now();
    const auto refreshAt = registerOnce(h, 120);
    h.advanceTo(refreshAt);
    h.advanceTo(h.clock.now() + 32s);
    h.timeoutLast("UDP 192.0.2.1:5060");
    REQUIRE(h.state() == State::Waiting);
    const auto left = (t0 + 120s) - h.clock.now();
    const auto retry = h.timer(TimerKind::Retry).value() - h.clock.now();
    CHECK(retry <= left / 4);          // not the 15-30 s backoff, which would lapse it
    CHECK(retry >= left / 8);
    CHECK(h.machine->counters().serverFailures == 0);  // a timeout is not a server failure
    CHECK(h.machine->counters().timeouts == 1);
    h.advanceTo(h.timer(TimerKind::Retry).value());
    h.respond(ok());
    CHECK(h.state() == State::Registered);
    CHECK(h.machine->counters().lapses == 0);
    // With no binding left, the ordinary backoff applies again.
    h.send(Event::refresh());
    h.advanceTo(h.clock.now() + 130s);
    h.timeoutLast();
    const auto backoff = h.timer(TimerKind::Retry).value() - h.clock.now();
    CHECK(backoff >= 15s);
}

TEST_CASE("423: Min-Expires adopted and retried at once; a second 423 in the attempt backs off") {
    RegHarness h;
    h.start();
    h.respond(status(423, "Interval Too Brief", {"Min-Expires: 1800"}));
    REQUIRE(h.registersSent() == 2);
    CHECK(h.state() == State::Registering);
    CHECK(expiresAsked(h.lastRegisterMessage()) == 1800);
    CHECK(h.machine->requestedExpires() == 1800s);
    h.respond(status(423, "Interval Too Brief", {"Min-Expires: 3600"}));
    CHECK(h.state() == State::Waiting);
    CHECK(h.registersSent() == 2);
    CHECK(h.machine->counters().intervalTooBrief == 2);
    CHECK(h.timer(TimerKind::Retry).has_value());

    // The next attempt may adopt again; the learned minimum keeps being asked.
    h.advanceTo(h.timer(TimerKind::Retry).value());
    CHECK(expiresAsked(h.lastRegisterMessage()) == 1800);
    h.respond(status(423, "Interval Too Brief", {"Min-Expires: 3600"}));
    CHECK(expiresAsked(h.lastRegisterMessage()) == 3600);
    h.respond(ok());
    CHECK(h.state() == State::Registered);
    CHECK(h.machine->lastGranted() == 3600s);
}

TEST_CASE("423 without a usable Min-Expires is a failure with backoff") {
    RegHarness h;
    h.start();
    h.respond(status(423, "Interval Too Brief"));
    CHECK(h.state() == State::Waiting);
    CHECK(h.registersSent() == 1);
}

TEST_CASE("503 with Retry-After is honoured (never sooner, at most 10 % later)") {
    RegHarness h;
    const auto t0 = h.clock.now();
    h.start();
    h.respond(status(503, "Service Unavailable", {"Retry-After: 120"}));
    CHECK(h.state() == State::Waiting);
    const auto retry = h.timer(TimerKind::Retry).value();
    CHECK(retry >= t0 + 120s);
    CHECK(retry <= t0 + 132s);
    CHECK(h.changes.back().text.rfind("503 Service Unavailable, retry in ", 0) == 0);
    CHECK(h.changes.back().statusCode == 503);
    h.advanceTo(retry);
    CHECK(h.state() == State::Registering);
    CHECK(h.registersSent() == 2);
}

TEST_CASE("6xx with Retry-After is honoured too") {
    RegHarness h;
    const auto t0 = h.clock.now();
    h.start();
    h.respond(status(600, "Busy Everywhere", {"Retry-After: 300"}));
    CHECK(h.state() == State::Waiting);
    CHECK(h.timer(TimerKind::Retry).value() >= t0 + 300s);
}

TEST_CASE("timeouts, transport errors, 408 and 5xx back off exponentially with jitter, reset on success") {
    auto s = test::basicLine();
    s.backoff = {Seconds{30}, Seconds{240}};
    RegHarness h(s);
    h.start();
    std::vector<std::pair<Duration, Duration>> windows = {
        {15s, 30s}, {30s, 60s}, {60s, 120s}, {120s, 240s}, {120s, 240s}};
    for (std::size_t i = 0; i < windows.size(); ++i) {
        CAPTURE(i);
        const auto now = h.clock.now();
        switch (i % 4) {
            case 0: h.timeoutLast(); break;
            case 1: h.send(Event::transportError(h.lastRegister().branch)); break;
            case 2: h.respond(status(408, "Request Timeout")); break;
            default: h.respond(status(500, "Server Internal Error")); break;
        }
        CHECK(h.state() == State::Waiting);
        const auto retry = h.timer(TimerKind::Retry).value();
        CHECK(retry - now >= windows[i].first);
        CHECK(retry - now <= windows[i].second);
        h.advanceTo(retry);
        CHECK(h.state() == State::Registering);
    }
    CHECK(h.machine->counters().timeouts == 2);
    CHECK(h.machine->counters().transportErrors == 1);
    h.respond(ok());
    CHECK(h.state() == State::Registered);
    // After success the backoff starts from the base again.
    h.advanceTo(h.timer(TimerKind::Refresh).value());
    const auto now = h.clock.now();
    h.timeoutLast();
    CHECK(h.state() == State::Waiting);
    CHECK(h.timer(TimerKind::Retry).value() - now <= 30s);
    CHECK(h.changes.back().text.rfind("no response, retry in", 0) == 0);
    // The engine names the peer that stayed silent; the state text carries it.
    h.advanceTo(h.timer(TimerKind::Retry).value());
    h.timeoutLast("TCP 192.0.2.7:5060");
    CHECK(h.changes.back().text.rfind("no response from TCP 192.0.2.7:5060, retry in", 0) == 0);
}

TEST_CASE("403 and 404 fail the line with failed_retry; other 4xx and 3xx too") {
    for (auto [code, reason] : std::vector<std::pair<int, std::string>>{
             {403, "Forbidden"}, {404, "Not Found"}, {480, "Temporarily Unavailable"},
             {400, "Bad Request"}, {302, "Moved Temporarily"}}) {
        CAPTURE(code);
        RegHarness h;
        const auto t0 = h.clock.now();
        h.start();
        h.respond(status(code, reason));
        CHECK(h.state() == State::Failed);
        const auto retry = h.timer(TimerKind::Retry).value();
        CHECK(retry >= t0 + 600s);
        CHECK(retry <= t0 + 660s);
        CHECK(h.changes.back().statusCode == code);
        CHECK(h.changes.back().text.rfind(std::to_string(code) + " " + reason + ", retry in 1", 0) == 0);
        CHECK(h.machine->counters().refused == 1);
        h.advanceTo(retry);
        CHECK(h.state() == State::Registering);
        CHECK(h.registersSent() == 2);
    }
}

TEST_CASE("Stop while registered unregisters with Contact expires=0 and Expires: 0") {
    RegHarness h;
    registerOnce(h);
    h.send(Event::stop());
    CHECK(h.state() == State::Unregistering);
    auto m = h.lastRegisterMessage();
    CHECK(h.lastRegister().purpose == RequestPurpose::Unregister);
    CHECK(expiresAsked(m) == 0);
    CHECK(sip::contacts(m)->at(0).expires() == 0u);
    CHECK(sip::contacts(m)->at(0).address.uri.host == "192.0.2.10");
    CHECK(h.timers.empty());
    h.respond(ok());
    CHECK(h.state() == State::Stopped);
    CHECK(h.changes.back().text == "unregistered");
    CHECK(h.machine->counters().unregistered == 1);
    CHECK_FALSE(h.machine->bindingExpiresAt().has_value());
}

TEST_CASE("an unregister that times out or is refused still ends in stopped, with the outcome") {
    RegHarness h;
    registerOnce(h);
    h.send(Event::stop());
    h.timeoutLast();
    CHECK(h.state() == State::Stopped);
    CHECK(h.changes.back().text == "unregister failed: no response; the binding lapses by itself");

    RegHarness h2;
    registerOnce(h2);
    h2.send(Event::stop());
    h2.respond(status(500, "Server Internal Error"));
    CHECK(h2.state() == State::Stopped);
    CHECK(h2.changes.back().statusCode == 500);
}

TEST_CASE("Stop when nothing can be registered stops at once; when a binding may exist it unregisters") {
    SUBCASE("403 on the first attempt: no binding") {
        RegHarness h;
        h.start();
        h.respond(status(403, "Forbidden"));
        h.send(Event::stop());
        CHECK(h.state() == State::Stopped);
        CHECK(h.registersSent() == 1);
        CHECK(h.timers.empty());
    }
    SUBCASE("a timed-out first REGISTER may have reached the registrar") {
        RegHarness h;
        h.start();
        h.timeoutLast();
        h.send(Event::stop());
        CHECK(h.state() == State::Unregistering);
        CHECK(h.registersSent() == 2);
    }
    SUBCASE("Stop during a REGISTER in flight cancels it and unregisters") {
        RegHarness h;
        h.start();
        const auto first = h.lastRegister().branch;
        h.send(Event::stop());
        CHECK(h.state() == State::Unregistering);
        REQUIRE(h.cancelled.size() == 1);
        CHECK(h.cancelled[0] == first);
        // A late 200 to the cancelled REGISTER is ignored.
        h.respondTo(h.sent[0], ok());
        CHECK(h.state() == State::Unregistering);
        CHECK(h.machine->counters().ignoredResponses == 1);
    }
    SUBCASE("a refresh that failed while the binding was still alive: unregister") {
        RegHarness h;
        h.advanceTo(registerOnce(h));
        h.respond(status(503, "Service Unavailable"));
        CHECK(h.state() == State::Waiting);
        h.send(Event::stop());
        CHECK(h.state() == State::Unregistering);
    }
    SUBCASE("the binding lapsed long ago: nothing to remove") {
        RegHarness h;
        registerOnce(h);
        h.send(Event::stop());
        h.respond(ok());
        h.start();
        h.respond(status(404, "Not Found"));
        h.send(Event::stop());
        CHECK(h.state() == State::Stopped);
    }
}

TEST_CASE("a forced Refresh registers now from waiting, failed or registered; ignored while in flight") {
    RegHarness h;
    h.start();
    h.send(Event::refresh());
    CHECK(h.registersSent() == 1);
    h.respond(status(403, "Forbidden"));
    h.send(Event::refresh());
    CHECK(h.state() == State::Registering);
    CHECK(h.registersSent() == 2);
    CHECK_FALSE(h.timer(TimerKind::Retry).has_value());
    h.respond(ok());
    h.send(Event::refresh());
    CHECK(h.state() == State::Registered);
    CHECK(h.registersSent() == 3);
}

TEST_CASE("stale timer firings and responses to other branches change nothing") {
    RegHarness h;
    registerOnce(h);
    const auto sent = h.sent.size();
    h.send(Event::timerFired(TimerKind::Retry));    // not armed
    h.send(Event::timerFired(TimerKind::Refresh));  // armed, not due
    CHECK(h.sent.size() == sent);
    h.respondTo(h.sent[0], ok());  // the old transaction
    CHECK(h.machine->counters().ignoredResponses == 1);
    h.send(Event::transactionTimeout("z9hG4bKunknown"));
    CHECK(h.state() == State::Registered);
}

TEST_CASE("CRLF keep-alive while registered, re-armed each interval, stopped when not registered") {
    auto s = test::basicLine();
    s.keepalive = Seconds{25};
    RegHarness h(s);
    h.start();
    CHECK_FALSE(h.timer(TimerKind::KeepAlive).has_value());
    h.respond(ok());
    const auto t = h.clock.now();
    CHECK(h.timer(TimerKind::KeepAlive) == t + 25s);
    h.advanceTo(t + 100s);
    CHECK(h.keepAlives.size() == 4);
    CHECK(h.keepAlives[0] == "\r\n\r\n");
    CHECK(h.machine->counters().keepalivesSent == 4);
    h.send(Event::stop());
    CHECK_FALSE(h.timer(TimerKind::KeepAlive).has_value());
}

TEST_CASE("OPTIONS keep-alive: one probe at a time, any answer ends it") {
    auto s = test::basicLine();
    s.keepalive = Seconds{25};
    s.keepaliveMode = KeepAliveMode::Options;
    RegHarness h(s);
    h.start();
    h.respond(ok());
    const auto t = h.clock.now();
    h.advanceTo(t + 25s);
    REQUIRE(h.sent.size() == 2);
    CHECK(h.sent[1].purpose == RequestPurpose::KeepAlive);
    auto m = test::parseSip(h.sent[1].bytes);
    CHECK(m.method() == "OPTIONS");
    CHECK(m.requestUriText() == "sip:example.com");
    h.advanceTo(t + 50s);
    CHECK(h.sent.size() == 2);  // the first is still unanswered
    h.respondTo(h.sent[1], status(405, "Method Not Allowed"));
    CHECK(h.state() == State::Registered);
    h.advanceTo(t + 75s);
    CHECK(h.sent.size() == 3);
    h.send(Event::transactionTimeout(h.sent[2].branch));
    CHECK(h.state() == State::Registered);  // a lost probe is not a registration failure
}

TEST_CASE("jitter spreads the refreshes of lines registered in the same instant") {
    std::set<int64_t> refreshMs;
    for (uint64_t seed = 1; seed <= 100; ++seed) {
        RegHarness h(test::basicLine(), seed);
        refreshMs.insert((registerOnce(h) - h.clock.now()).count());
    }
    CHECK(refreshMs.size() > 90);
    CHECK(*refreshMs.rbegin() - *refreshMs.begin() > 20'000);  // over 20 s of a 30 s window
    CHECK(*refreshMs.rbegin() <= 540'000);
}
