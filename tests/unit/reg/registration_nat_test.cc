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

ResponseSpec okSeenFrom(const std::string& host, int port) {
    ResponseSpec s;
    s.viaRport = ";received=" + host + ";rport=" + std::to_string(port);
    return s;
}

// Answers the current REGISTER, then runs to the next refresh.
void answerAndRefresh(RegHarness& h, const ResponseSpec& s) {
    h.respond(s);
    REQUIRE(h.state() == State::Registered);
    if (!h.machine->pendingBranch().empty()) return;  // the answer triggered a REGISTER
    h.advanceTo(h.timer(TimerKind::Refresh).value());
}

}  // namespace

TEST_CASE("NAT: two agreeing responses move the Contact to the public address and drop the old binding") {
    RegHarness h;
    h.start();
    answerAndRefresh(h, okSeenFrom("203.0.113.5", 40000));
    CHECK(h.machine->counters().natRewrites == 0);
    const auto before = h.registersSent();
    h.respond(okSeenFrom("203.0.113.5", 40000));
    CHECK(h.machine->counters().natRewrites == 1);
    REQUIRE(h.registersSent() == before + 1);  // re-registered at once
    auto m = h.lastRegisterMessage();
    auto contacts = sip::contacts(m).value();
    REQUIRE(contacts.size() == 2);
    CHECK(contacts[0].address.uri.host == "203.0.113.5");
    CHECK(contacts[0].address.uri.port == 40000);
    CHECK(contacts[0].expires() == 600u);
    CHECK(contacts[1].address.uri.host == "192.0.2.10");
    CHECK(contacts[1].expires() == 0u);
    CHECK(sip::vias(m)->front().host == "192.0.2.10");  // Via keeps the local sent-by

    h.respond(okSeenFrom("203.0.113.5", 40000));
    CHECK(h.state() == State::Registered);
    h.advanceTo(h.timer(TimerKind::Refresh).value());
    CHECK(sip::contacts(h.lastRegisterMessage())->size() == 1);  // the old binding is gone
    CHECK(h.machine->contactUri() == "sip:alice@203.0.113.5:40000");
}

TEST_CASE("NAT: a symmetric NAT (new port in every response) causes no rewrite loop") {
    RegHarness h;
    h.start();
    for (int i = 0; i < 20; ++i) answerAndRefresh(h, okSeenFrom("203.0.113.5", 40000 + i));
    CHECK(h.machine->counters().natRewrites == 0);
    CHECK(h.registersSent() == 21);  // one per refresh, nothing extra
}

TEST_CASE("NAT: a load-balanced registrar seeing alternating addresses causes no flipping") {
    RegHarness h;
    h.start();
    for (int i = 0; i < 20; ++i)
        answerAndRefresh(h, okSeenFrom(i % 2 ? "203.0.113.6" : "203.0.113.5", 40000));
    CHECK(h.machine->counters().natRewrites == 0);

    // Runs of agreement: A,A -> rewrite to A; B,B -> to B; A,A again -> never back.
    for (const char* addr : {"203.0.113.5", "203.0.113.5", "203.0.113.5", "203.0.113.6",
                             "203.0.113.6", "203.0.113.6", "203.0.113.5", "203.0.113.5",
                             "203.0.113.5"})
        answerAndRefresh(h, okSeenFrom(addr, 40000));
    CHECK(h.machine->counters().natRewrites == 2);
    CHECK(h.machine->contactUri() == "sip:alice@203.0.113.6:40000");
}

TEST_CASE("NAT: rewrites are capped per hour and off with a configured contact") {
    auto s = test::basicLine();
    s.natRewritesPerHour = 1;
    RegHarness h(s);
    h.start();
    for (int port : {40000, 40000, 40001, 40001, 40002, 40002})
        answerAndRefresh(h, okSeenFrom("203.0.113.5", port));
    CHECK(h.machine->counters().natRewrites == 1);

    auto fixed = test::basicLine();
    fixed.contact = "sip:alice@192.0.2.10:5060";
    RegHarness h2(fixed);
    h2.start();
    for (int i = 0; i < 4; ++i) answerAndRefresh(h2, okSeenFrom("203.0.113.5", 40000));
    CHECK(h2.machine->counters().natRewrites == 0);
}

TEST_CASE("NAT: a response that agrees with our Contact changes nothing") {
    RegHarness h;
    h.start();
    for (int i = 0; i < 4; ++i) answerAndRefresh(h, okSeenFrom("192.0.2.10", 5060));
    CHECK(h.machine->counters().natRewrites == 0);
    CHECK(h.registersSent() == 5);
}
