#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "control/check_summary.h"
#include "control/command_handler.h"
#include "fake_backend.h"

using namespace sipreg;
using namespace sipreg::control;
using namespace sipreg::control::testing;
using nlohmann::json;

namespace {

json ask(Backend& b, const std::string& request) {
    Reply r = handleRequest(request, b);
    REQUIRE(!r.line.empty());
    REQUIRE(r.line.back() == '\n');
    return json::parse(r.line);
}

FakeBackend threeLines() {
    FakeBackend b;
    b.lines = {lineStatus("a", reg::State::Registered), lineStatus("b", reg::State::Waiting),
               lineStatus("c", reg::State::Registered)};
    app::StateChangeRecord h;
    h.to = reg::State::Waiting;
    h.text = "timeout, retry in 2 s";
    b.lines[1].history = {h};
    return b;
}

}  // namespace

TEST_CASE("status lists every line in order with the counts and the daemon's time") {
    FakeBackend b = threeLines();
    const json r = ask(b, R"({"cmd":"status"})");
    CHECK(r["ok"] == true);
    CHECK(r["now"] == b.now);
    REQUIRE(r["lines"].size() == 3);
    CHECK(r["lines"][0]["id"] == "a");
    CHECK(r["lines"][1]["id"] == "b");
    CHECK(r["lines"][1]["state"] == "waiting");
    CHECK(r["lines"][2]["id"] == "c");
    CHECK_FALSE(r["lines"][1].contains("history"));
    CHECK(r["counts"]["total"] == 3);
    CHECK(r["counts"]["registered"] == 2);
    CHECK(r["counts"]["waiting"] == 1);
}

TEST_CASE("show gives one line with history; an unknown line is an error") {
    FakeBackend b = threeLines();
    const json r = ask(b, R"({"cmd":"show","line":"b"})");
    CHECK(r["ok"] == true);
    CHECK(r["line"]["id"] == "b");
    REQUIRE(r["line"]["history"].size() == 1);
    CHECK(r["line"]["history"][0]["text"] == "timeout, retry in 2 s");

    const json missing = ask(b, R"({"cmd":"show","line":"zz"})");
    CHECK(missing["ok"] == false);
    CHECK(missing["error"] == "no line \"zz\"");
}

TEST_CASE("refresh of one line, of all lines, and of a line that does not exist") {
    FakeBackend b = threeLines();
    json r = ask(b, R"({"cmd":"refresh","line":"c"})");
    CHECK(r["ok"] == true);
    CHECK(r["refreshed"] == 1);
    CHECK(b.refreshed == std::vector<std::string>{"c"});

    r = ask(b, R"({"cmd":"refresh","all":true})");
    CHECK(r["ok"] == true);
    CHECK(r["refreshed"] == 3);
    CHECK(b.refreshAllCalls == 1);

    r = ask(b, R"({"cmd":"refresh","line":"nope"})");
    CHECK(r["ok"] == false);
    CHECK(r["error"] == "no line \"nope\"");
    CHECK(b.refreshed.size() == 1);
}

TEST_CASE("reload reports the diff, or refuses with the file's errors") {
    FakeBackend b;
    b.nextReload.applied = true;
    b.nextReload.diff.added = {"n"};
    b.nextReload.diff.unchanged = {"u"};
    json r = ask(b, R"({"cmd":"reload"})");
    CHECK(b.reloads == 1);
    CHECK(r["ok"] == true);
    CHECK(r["applied"] == true);
    CHECK(r["added"] == json::array({"n"}));
    CHECK(r["unchanged"] == 1);

    b.nextReload = {};
    b.nextReload.errors = {"x.yaml:4:3: error: unknown key \"registar\"", "x.yaml:9:1: error: duplicate id"};
    r = ask(b, R"({"cmd":"reload"})");
    CHECK(b.reloads == 2);
    CHECK(r["ok"] == false);
    CHECK(r["applied"] == false);
    CHECK(r["errors"].size() == 2);
    CHECK(r["error"].get<std::string>().find("2 error(s)") != std::string::npos);
}

TEST_CASE("check is healthy only when every line is registered") {
    FakeBackend b = threeLines();
    json r = ask(b, R"({"cmd":"check"})");
    CHECK(r["ok"] == true);
    CHECK(r["healthy"] == false);
    CHECK(r["registered"] == 2);
    CHECK(r["total"] == 3);
    CHECK(r["not_registered"]["waiting"] == json::array({"b"}));
    CHECK(r["summary"] == "WARNING: 2/3 registered; waiting: b");

    b.lines[1].state = reg::State::Registered;
    r = ask(b, R"({"cmd":"check"})");
    CHECK(r["healthy"] == true);
    CHECK(r["summary"] == "OK: 3/3 registered");
    CHECK(r["not_registered"].empty());
}

TEST_CASE("the check summary names a few lines per state and counts the rest") {
    std::vector<app::LineStatus> lines;
    for (int i = 0; i < 8; ++i) lines.push_back(lineStatus("w" + std::to_string(i), reg::State::Waiting));
    lines.push_back(lineStatus("f", reg::State::Failed));
    lines.push_back(lineStatus("ok", reg::State::Registered));
    const CheckResult r = evaluateCheck(lines);
    CHECK_FALSE(r.healthy());
    CHECK(r.summary() == "WARNING: 1/10 registered; waiting: w0, w1, w2, w3, w4 (+3 more); failed: f");
    CHECK(encodeCheck(r)["not_registered"]["waiting"].size() == 8);
}

TEST_CASE("trace starts a stream for a known line or all lines, not for an unknown one") {
    FakeBackend b = threeLines();
    Reply one = handleRequest(R"({"cmd":"trace","line":"a"})", b);
    CHECK(one.startTrace);
    CHECK(one.traceLine == "a");
    CHECK(json::parse(one.line)["trace"] == "a");

    Reply all = handleRequest(R"({"cmd":"trace"})", b);
    CHECK(all.startTrace);
    CHECK_FALSE(all.traceLine.has_value());
    CHECK(json::parse(all.line)["trace"].is_null());

    Reply unknown = handleRequest(R"({"cmd":"trace","line":"zz"})", b);
    CHECK_FALSE(unknown.startTrace);
    CHECK(json::parse(unknown.line)["ok"] == false);
}

TEST_CASE("a bad request gets an error reply that is itself one JSON line") {
    FakeBackend b;
    Reply r = handleRequest("not json", b);
    CHECK_FALSE(r.startTrace);
    const json j = json::parse(r.line);
    CHECK(j["ok"] == false);
    CHECK(j["error"] == "request is not valid JSON");
    CHECK(r.line.find('\n') == r.line.size() - 1);
}
