// What the control socket, metrics and on_change read: LineManager::status/statusAll, the
// state-change listener and the trace listener.
#include <doctest/doctest.h>

#include "manager_fixture.h"

using namespace sipreg;
using namespace sipreg::testing;
using namespace std::chrono_literals;

TEST_CASE("status of a registered line: response, expiry, next refresh and history") {
    Fixture f;
    f.manager.start(loadYaml(configText(1)));
    f.runFor(50ms);
    f.answerAll();
    auto st = f.manager.status("line0");
    REQUIRE(st.has_value());
    CHECK(st->state == reg::State::Registered);
    CHECK(st->registrar == "sip:127.0.0.1:5060");
    CHECK(st->transport == "udp");
    CHECK(st->target == "UDP 127.0.0.1:5060");
    CHECK(st->lastStatusCode == 200);
    CHECK(st->lastReason == "OK");
    CHECK(st->grantedSeconds == 600);
    REQUIRE(st->expiresIn.has_value());
    CHECK(*st->expiresIn == 600s);
    CHECK(st->nextAction == "refresh");
    REQUIRE(st->nextActionIn.has_value());
    CHECK(*st->nextActionIn < 600s);
    CHECK(*st->nextActionIn > 400s);
    REQUIRE(st->history.size() == 2);
    CHECK(st->history[0].to == reg::State::Registering);
    CHECK(st->history[1].to == reg::State::Registered);
    CHECK(st->history[1].statusCode == 200);
    CHECK(st->history[1].wallSeconds > 1'600'000'000);
    REQUIRE(st->lastChange.has_value());
    CHECK(st->lastChange->to == reg::State::Registered);
    CHECK(st->counters.registered == 1);
    CHECK_FALSE(f.manager.status("nope").has_value());
}

TEST_CASE("status after a refusal and after silence names what happened") {
    Fixture f;
    f.manager.start(loadYaml(configText(2)));
    f.runFor(50ms);
    f.answerAll(403, "Forbidden");
    auto refused = f.manager.status("line0");
    REQUIRE(refused.has_value());
    CHECK(refused->state == reg::State::Failed);
    CHECK(refused->lastStatusCode == 403);
    CHECK(refused->lastReason == "Forbidden");
    CHECK(refused->nextAction == "retry");
    CHECK(refused->consecutiveFailures == 0);

    Fixture g;
    g.manager.start(loadYaml(configText(1)));
    g.runFor(33s);  // Timer F
    auto silent = g.manager.status("line0");
    REQUIRE(silent.has_value());
    CHECK(silent->state == reg::State::Waiting);
    CHECK(silent->lastStatusCode == 0);
    CHECK(silent->lastReason == "no response from UDP 127.0.0.1:5060");
    CHECK(silent->consecutiveFailures == 1);
}

TEST_CASE("statusAll lists lines in file order, history only when asked") {
    Fixture f;
    f.manager.start(loadYaml(configText(3)));
    f.runFor(50ms);
    auto all = f.manager.statusAll();
    REQUIRE(all.size() == 3);
    CHECK(all[0].id == "line0");
    CHECK(all[2].id == "line2");
    CHECK(all[0].history.empty());
    CHECK(f.manager.statusAll(true)[0].history.size() == 1);
}

TEST_CASE("a line not started yet says when it starts") {
    Fixture f;
    f.manager.start(loadYaml(configText(1, "max_rate: 1000\nstart_spread: 60s\n")));
    auto st = f.manager.status("line0");
    REQUIRE(st.has_value());
    CHECK(st->state == reg::State::Stopped);
    CHECK(st->nextAction == "start");
    REQUIRE(st->nextActionIn.has_value());
    CHECK(*st->nextActionIn <= 60s);
}

TEST_CASE("the state-change listener sees every change with the response") {
    Fixture f;
    std::vector<std::string> seen;
    f.manager.setStateChangeListener([&](const app::StateChangeEvent& e) {
        seen.push_back(std::string(e.lineId) + " " + std::string(reg::stateName(e.change->from)) + "->" +
                       std::string(reg::stateName(e.change->to)) + " " + std::to_string(e.change->statusCode) +
                       " " + std::string(e.reason));
    });
    f.manager.start(loadYaml(configText(1)));
    f.runFor(50ms);
    f.answerAll(403, "Forbidden");
    REQUIRE(seen.size() == 2);
    CHECK(seen[0] == "line0 stopped->registering 0 ");
    CHECK(seen[1] == "line0 registering->failed 403 Forbidden");
}

TEST_CASE("refreshAll refreshes every line") {
    Fixture f;
    f.manager.start(loadYaml(configText(3)));
    f.runFor(50ms);
    f.answerAll();
    const std::size_t mark = f.port.sent.size();
    CHECK(f.manager.refreshAll() == 3);
    CHECK(f.requestsSince(mark).size() == 3);
}

TEST_CASE("the trace listener gets each line's messages both ways, credentials redacted") {
    Fixture f;
    std::vector<std::pair<std::string, std::string>> traced;  // line id, first line
    std::string all;
    f.manager.setTraceListener([&](const app::TraceEvent& e) {
        traced.emplace_back(std::string(e.lineId),
                            std::string(e.outgoing ? "> " : "< ") + std::string(e.bytes.substr(0, e.bytes.find('\r'))));
        all += e.bytes;
    });
    f.manager.start(loadYaml(configText(1, "max_rate: 1000\nstart_spread: 0s\n",
                                       "    auth: { password: s3cret-pw }\n")));
    f.runFor(50ms);
    // Challenge, then accept.
    const std::size_t end = f.port.sent.size();
    auto m = sip::parseDatagram(f.port.sent[end - 1].bytes);
    REQUIRE(m.ok());
    auto challenge = sip::serialize(sip::makeResponse(*m, 401, "Unauthorized", "t",
                                                      {{"WWW-Authenticate", "Digest realm=\"r\", nonce=\"abc\", qop=\"auth\""}}));
    txn::Peer from = FakePort::peerAt(5060);
    f.answered = end;
    f.manager.onDatagram(challenge, from);
    f.answerAll();
    REQUIRE(traced.size() >= 4);
    CHECK(traced[0] == std::make_pair(std::string("line0"), std::string("> REGISTER sip:127.0.0.1:5060 SIP/2.0")));
    CHECK(traced[1] == std::make_pair(std::string("line0"), std::string("< SIP/2.0 401 Unauthorized")));
    CHECK(traced[2].second == "> REGISTER sip:127.0.0.1:5060 SIP/2.0");
    CHECK(traced[3] == std::make_pair(std::string("line0"), std::string("< SIP/2.0 200 OK")));
    CHECK(all.find("s3cret-pw") == std::string::npos);
    CHECK(all.find("Authorization: Digest") != std::string::npos);
    // The digest response on the wire never reaches the trace.
    std::string wire;
    for (const auto& sent : f.port.sent) wire += sent.bytes;
    const std::size_t at = wire.find("response=\"");
    REQUIRE(at != std::string::npos);
    const std::string response = wire.substr(at + 10, wire.find('"', at + 10) - at - 10);
    REQUIRE(response.size() == 32);
    CHECK(all.find(response) == std::string::npos);
}
