#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "control/check_summary.h"
#include "control/command_handler.h"
#include "control/status_text.h"
#include "fake_backend.h"

using namespace sipreg;
using namespace sipreg::control;
using namespace sipreg::control::testing;
using nlohmann::json;

TEST_CASE("durations read the way an operator says them") {
    CHECK(formatDuration(0) == "0s");
    CHECK(formatDuration(45) == "45s");
    CHECK(formatDuration(125) == "2m05s");
    CHECK(formatDuration(3600) == "1h00m");
    CHECK(formatDuration(3725) == "1h02m");
    CHECK(formatDuration(90061) == "1d01h");
    CHECK(formatDuration(-5) == "-5s");
}

TEST_CASE("the status table has a header, a row per line and a summary") {
    FakeBackend b;
    b.lines = {lineStatus("alice", reg::State::Registered), lineStatus("bob", reg::State::Failed)};
    b.lines[0].grantedSeconds = 3600;
    b.lines[0].nextAction = "refresh";
    b.lines[0].nextActionIn = std::chrono::seconds(1800);
    b.lines[0].lastStatusCode = 200;
    b.lines[0].lastReason = "OK";
    app::StateChangeRecord c;
    c.wallSeconds = b.now - 125;
    c.from = reg::State::Registering;
    c.to = reg::State::Registered;
    b.lines[0].lastChange = c;
    b.lines[1].lastStatusCode = 403;
    b.lines[1].lastReason = "Forbidden";
    b.lines[1].consecutiveFailures = 2;
    const json reply = json::parse(handleRequest(R"({"cmd":"status"})", b).line);
    const std::string text = renderStatusTable(reply);
    CAPTURE(text);
    CHECK(text.rfind("ID     STATE       REGISTRAR", 0) == 0);
    CHECK(text.find("alice  registered  sip:registrar.example  udp        1h00m    refresh in 30m00s  200 OK") !=
          std::string::npos);
    CHECK(text.find("registering -> registered 2m05s ago") != std::string::npos);
    CHECK(text.find("bob    failed") != std::string::npos);
    CHECK(text.find("403 Forbidden  2") != std::string::npos);
    CHECK(text.find("1/2 registered, 1 failed\n") != std::string::npos);
}

TEST_CASE("show prints the fields, the counters and the history") {
    FakeBackend b;
    b.lines = {lineStatus("alice", reg::State::Waiting)};
    app::StateChangeRecord h;
    h.wallSeconds = b.now - 10;
    h.from = reg::State::Registering;
    h.to = reg::State::Waiting;
    h.statusCode = 503;
    h.text = "503 Service Unavailable, retry in 4 s";
    b.lines[0].history = {h};
    b.lines[0].counters.serverFailures = 1;
    const std::string text = renderShow(json::parse(handleRequest(R"({"cmd":"show","line":"alice"})", b).line));
    CAPTURE(text);
    CHECK(text.find("line:            alice") != std::string::npos);
    CHECK(text.find("state:           waiting") != std::string::npos);
    CHECK(text.find("server_failures=1") != std::string::npos);
    CHECK(text.find("registering -> waiting  503  503 Service Unavailable, retry in 4 s") != std::string::npos);
}

TEST_CASE("reload text: the diff, or the errors with their positions") {
    json applied{{"ok", true}, {"applied", true}, {"added", {"n1", "n2"}}, {"removed", json::array()},
                 {"changed", {"c"}}, {"unchanged", 4}, {"warnings", {"w: something"}}};
    const std::string a = renderReload(applied);
    CHECK(a.find("reload applied: 2 added, 0 removed, 1 changed, 4 unchanged\n") == 0);
    CHECK(a.find("  added: n1, n2\n") != std::string::npos);
    CHECK(a.find("  changed: c\n") != std::string::npos);
    CHECK(a.find("removed:") == std::string::npos);
    CHECK(a.find("w: something\n") != std::string::npos);

    json refused{{"ok", false}, {"applied", false}, {"errors", {"f.yaml:2:7: error: bad value"}}};
    const std::string r = renderReload(refused);
    CHECK(r.find("reload refused") == 0);
    CHECK(r.find("f.yaml:2:7: error: bad value\n") != std::string::npos);
}

TEST_CASE("trace text: a header and the message with LF line ends") {
    json event{{"event", "sip"}, {"at", 1'700'000'000.5}, {"line", "alice"}, {"direction", "out"},
               {"peer", "UDP 127.0.0.1:5060"}, {"message", "REGISTER sip:x SIP/2.0\r\nCSeq: 1 REGISTER\r\n\r\n"}};
    const std::string t = renderTrace(event);
    CHECK(t.find(".500 alice sent to UDP 127.0.0.1:5060\n") != std::string::npos);
    CHECK(t.find("REGISTER sip:x SIP/2.0\nCSeq: 1 REGISTER\n\n") != std::string::npos);
    CHECK(t.find('\r') == std::string::npos);
    event["direction"] = "in";
    event["line"] = nullptr;
    CHECK(renderTrace(event).find("(no line) received from") != std::string::npos);
}

TEST_CASE("rendering never throws on replies of the wrong shape") {
    for (const json& j : {json(nullptr), json(5), json::array(), json{{"lines", 5}}, json{{"lines", {1, "x", nullptr}}},
                          json{{"line", {{"history", {1, 2}}, {"failures", "x"}, {"granted", 1e300}}}},
                          json{{"applied", true}, {"added", 3}}}) {
        CHECK_NOTHROW((void)renderStatusTable(j));
        CHECK_NOTHROW((void)renderShow(j));
        CHECK_NOTHROW((void)renderReload(j));
        CHECK_NOTHROW((void)renderTrace(j));
    }
}
