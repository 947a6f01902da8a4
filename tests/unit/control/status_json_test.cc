#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "control/json_text.h"
#include "control/status_json.h"

using namespace sipreg;
using namespace sipreg::control;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

app::LineStatus registeredLine() {
    app::LineStatus st;
    st.id = "alice";
    st.state = reg::State::Registered;
    st.registrar = "sip:pbx.example";
    st.transport = "tls";
    st.target = "TLS 192.0.2.1:5061";
    st.grantedSeconds = 600;
    st.expiresIn = 599'700ms;
    st.nextAction = "refresh";
    st.nextActionIn = 300'900ms;
    st.lastStatusCode = 200;
    st.lastReason = "OK";
    st.consecutiveFailures = 0;
    app::StateChangeRecord change;
    change.wallSeconds = 1'700'000'100;
    change.from = reg::State::Registering;
    change.to = reg::State::Registered;
    change.statusCode = 200;
    change.text = "registered, expires 600 s";
    st.lastChange = change;
    app::StateChangeRecord first;
    first.wallSeconds = 1'700'000'099;
    first.from = reg::State::Stopped;
    first.to = reg::State::Registering;
    st.history = {first, change};
    st.counters.registerSent = 2;
    st.counters.challenged = 1;
    return st;
}

}  // namespace

TEST_CASE("a line encodes every status field; durations in whole seconds") {
    const json j = encodeLine(registeredLine(), false);
    CHECK(j["id"] == "alice");
    CHECK(j["state"] == "registered");
    CHECK(j["registrar"] == "sip:pbx.example");
    CHECK(j["transport"] == "tls");
    CHECK(j["target"] == "TLS 192.0.2.1:5061");
    CHECK(j["granted"] == 600);
    CHECK(j["expires_in"] == 599);
    CHECK(j["next_action"] == "refresh");
    CHECK(j["next_action_in"] == 300);
    CHECK(j["last_code"] == 200);
    CHECK(j["last_reason"] == "OK");
    CHECK(j["failures"] == 0);
    CHECK(j["last_change"]["at"] == 1'700'000'100);
    CHECK(j["last_change"]["from"] == "registering");
    CHECK(j["last_change"]["to"] == "registered");
    CHECK(j["last_change"]["code"] == 200);
    CHECK(j["last_change"]["text"] == "registered, expires 600 s");
    CHECK_FALSE(j.contains("history"));
    CHECK_FALSE(j.contains("counters"));
}

TEST_CASE("detailed encoding adds history (oldest first), counters and proxy") {
    const json j = encodeLine(registeredLine(), true);
    REQUIRE(j["history"].size() == 2);
    CHECK(j["history"][0]["from"] == "stopped");
    CHECK(j["history"][0]["to"] == "registering");
    CHECK(j["history"][0]["code"].is_null());
    CHECK(j["history"][1]["to"] == "registered");
    CHECK(j["counters"]["register_sent"] == 2);
    CHECK(j["counters"]["challenged"] == 1);
    CHECK(j["outbound_proxy"].is_null());
    CHECK(j["setup_error"].is_null());
}

TEST_CASE("a line that never got an answer has nulls, not zeros or empty strings") {
    app::LineStatus st;
    st.id = "new";
    st.state = reg::State::Waiting;
    st.registrar = "sip:pbx.example";
    st.consecutiveFailures = 3;
    const json j = encodeLine(st, false);
    CHECK(j["state"] == "waiting");
    for (const char* key : {"transport", "target", "granted", "expires_in", "next_action", "next_action_in",
                            "last_code", "last_reason", "last_change"}) {
        CAPTURE(key);
        CHECK(j[key].is_null());
    }
    CHECK(j["failures"] == 3);
}

TEST_CASE("states are named exactly as reg::stateName names them") {
    for (reg::State s : {reg::State::Stopped, reg::State::Registering, reg::State::Registered, reg::State::Waiting,
                         reg::State::Failed, reg::State::Unregistering}) {
        app::LineStatus st;
        st.state = s;
        CHECK(encodeLine(st, false)["state"] == std::string(reg::stateName(s)));
    }
    app::LineStatus failed;
    failed.state = reg::State::Failed;
    CHECK(encodeLine(failed, false)["state"] == "failed");
}

TEST_CASE("counts carry the total and every state") {
    app::StateCounts c;
    c.total = 5;
    c[reg::State::Registered] = 3;
    c[reg::State::Failed] = 2;
    const json j = encodeCounts(c);
    CHECK(j["total"] == 5);
    CHECK(j["registered"] == 3);
    CHECK(j["failed"] == 2);
    CHECK(j["waiting"] == 0);
    CHECK(j.size() == 7);
}

TEST_CASE("reload: the diff when applied, the errors when refused") {
    ReloadReport applied;
    applied.applied = true;
    applied.diff.added = {"new"};
    applied.diff.removed = {"old"};
    applied.diff.changed = {"a", "b"};
    applied.diff.unchanged = {"c", "d", "e"};
    applied.warnings = {"w"};
    json j = encodeReload(applied);
    CHECK(j["applied"] == true);
    CHECK(j["added"] == json::array({"new"}));
    CHECK(j["removed"] == json::array({"old"}));
    CHECK(j["changed"] == json::array({"a", "b"}));
    CHECK(j["unchanged"] == 3);
    CHECK(j["warnings"] == json::array({"w"}));

    ReloadReport refused;
    refused.errors = {"/etc/x.yaml:3:5: error: bad"};
    j = encodeReload(refused);
    CHECK(j["applied"] == false);
    CHECK(j["errors"] == json::array({"/etc/x.yaml:3:5: error: bad"}));
    CHECK_FALSE(j.contains("added"));
}

TEST_CASE("a trace event keeps the message; bytes that are not UTF-8 cannot break the line") {
    app::TraceEvent e;
    e.lineId = "alice";
    e.outgoing = true;
    e.peer = "UDP 127.0.0.1:5060";
    const std::string message = "REGISTER sip:x SIP/2.0\r\nSubject: \xff\xfe\r\n\r\n";
    e.bytes = message;
    const std::string line = toLine(encodeTrace(e, 1'700'000'000.25));
    REQUIRE(line.back() == '\n');
    CHECK(line.find('\n') == line.size() - 1);
    const json back = json::parse(line);
    CHECK(back["event"] == "sip");
    CHECK(back["line"] == "alice");
    CHECK(back["direction"] == "out");
    CHECK(back["peer"] == "UDP 127.0.0.1:5060");
    CHECK(back["at"] == 1'700'000'000.25);
    CHECK(back["message"].get<std::string>().rfind("REGISTER sip:x SIP/2.0\r\nSubject: ", 0) == 0);

    app::TraceEvent stray;
    stray.bytes = "OPTIONS sip:x SIP/2.0\r\n\r\n";
    CHECK(encodeTrace(stray, 0)["line"].is_null());
    CHECK(encodeTrace(stray, 0)["direction"] == "in");
}
