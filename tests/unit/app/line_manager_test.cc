#include <doctest/doctest.h>

#include "manager_fixture.h"

using namespace sipreg;
using namespace sipreg::testing;
using namespace std::chrono_literals;


TEST_CASE("every line registers and the counts say so") {
    Fixture f;
    std::vector<std::string> statuses;
    f.manager.setStatusListener([&](const app::StateCounts& c) { statuses.push_back(app::statusLine(c)); });
    f.manager.start(loadYaml(configText(5)));
    CHECK(f.manager.counts().total == 5);
    f.runFor(100ms);
    CHECK(f.requestsSince(0).size() == 5);
    CHECK(toUsers(f.requestsSince(0)).size() == 5);
    f.answerAll();
    CHECK(f.manager.counts()[reg::State::Registered] == 5);
    REQUIRE_FALSE(statuses.empty());
    CHECK(statuses.back() == "5/5 registered");
    auto view = f.manager.line("line3");
    REQUIRE(view.has_value());
    CHECK(view->state == reg::State::Registered);
}

TEST_CASE("lines start spread over start_spread, not all at once") {
    Fixture f;
    f.manager.start(loadYaml(configText(50, "max_rate: 1000\nstart_spread: 10s\n")));
    f.runFor(1s);
    const std::size_t early = f.requestsSince(0).size();
    CHECK(early < 20);  // about 5 expected in the first second of ten
    f.runFor(10s);
    CHECK(f.requestsSince(0).size() == 50);
}

TEST_CASE("new transactions never exceed max_rate") {
    Fixture f;
    f.manager.start(loadYaml(configText(40, "max_rate: 10\nstart_spread: 0s\n")));
    f.runFor(990ms);
    // The bucket holds one second's worth: 10 at once, then 10 per second.
    CHECK(f.requestsSince(0).size() <= 20);
    CHECK(f.requestsSince(0).size() >= 10);
    f.runFor(1s);
    CHECK(f.requestsSince(0).size() <= 30);
    f.runFor(5s);
    CHECK(f.requestsSince(0).size() == 40);
    CHECK(f.manager.counters().rateLimited > 0);
}

TEST_CASE("a malformed datagram is counted and disturbs no line") {
    Fixture f;
    f.manager.start(loadYaml(configText(2)));
    f.runFor(100ms);
    txn::Peer from;
    from.address = {127, 0, 0, 1};
    from.port = 5060;
    f.manager.onDatagram("SIP/2.0 200 OK\r\nVia: garbage\r\n\r\n\x01\x02", from);
    f.manager.onDatagram(std::string(100, '\0'), from);
    // Unparseable bytes are malformed; a response with an unreadable Via matches nothing.
    CHECK(f.manager.counters().malformed == 1);
    CHECK(f.manager.counters().strayResponses == 1);
    f.answerAll();
    CHECK(f.manager.counts()[reg::State::Registered] == 2);
}

TEST_CASE("a line whose registrar cannot be resolved waits alone and sends nothing") {
    Fixture f;
    f.port.unresolvable.insert("nowhere.invalid");
    std::string text = configText(2) +
                       "  - id: broken\n    registrar: sip:nowhere.invalid\n    aor: sip:x@nowhere.invalid\n";
    f.manager.start(loadYaml(text));
    f.runFor(100ms);
    f.answerAll();
    CHECK(f.manager.counts()[reg::State::Registered] == 2);
    CHECK(f.manager.counts()[reg::State::Waiting] == 1);
    auto broken = f.manager.line("broken");
    REQUIRE(broken.has_value());
    CHECK(broken->state == reg::State::Waiting);
    CHECK(toUsers(f.requestsSince(0)).count("x") == 0);
}

TEST_CASE("reload: unchanged lines are untouched, changed re-register, removed unregister, added register") {
    Fixture f;
    // keep, change, remove
    const std::string before = configText(0) +
                               "  - id: keep\n    registrar: 127.0.0.1:5060\n    aor: sip:keep@example.com\n"
                               "  - id: change\n    registrar: 127.0.0.1:5060\n    aor: sip:change@example.com\n"
                               "  - id: remove\n    registrar: 127.0.0.1:5060\n    aor: sip:remove@example.com\n";
    f.manager.start(loadYaml(before));
    f.runFor(100ms);
    f.answerAll();
    REQUIRE(f.manager.counts()[reg::State::Registered] == 3);
    const std::size_t mark = f.port.sent.size();

    const std::string after = configText(0) +
                              "  - id: keep\n    registrar: 127.0.0.1:5060\n    aor: sip:keep@example.com\n"
                              "  - id: change\n    registrar: 127.0.0.1:5060\n    aor: sip:change@example.com\n"
                              "    expires: 300\n"
                              "  - id: added\n    registrar: 127.0.0.1:5060\n    aor: sip:added@example.com\n";
    auto diff = f.manager.reload(loadYaml(after));
    CHECK(diff.unchanged == std::vector<std::string>{"keep"});
    CHECK(diff.changed == std::vector<std::string>{"change"});
    CHECK(diff.removed == std::vector<std::string>{"remove"});
    CHECK(diff.added == std::vector<std::string>{"added"});
    f.runFor(100ms);
    auto requests = f.requestsSince(mark);
    std::map<std::string, std::vector<uint32_t>> expiresByUser;
    for (const auto& m : requests) {
        expiresByUser[std::string(sip::toHeader(m).value().uri.user)].push_back(sip::expires(m).value().value_or(0));
    }
    CHECK(expiresByUser.count("keep") == 0);
    CHECK(expiresByUser["change"] == std::vector<uint32_t>{300});
    CHECK(expiresByUser["remove"] == std::vector<uint32_t>{0});
    CHECK(expiresByUser["added"] == std::vector<uint32_t>{600});
    f.answerAll();
    CHECK(f.manager.counts().total == 3);
    CHECK(f.manager.counts()[reg::State::Registered] == 3);
    CHECK(f.manager.retiringCount() == 0);  // the removed line finished unregistering
    CHECK_FALSE(f.manager.line("remove").has_value());
}

TEST_CASE("reload that changes a line's contact removes the old binding first") {
    Fixture f;
    f.manager.start(loadYaml(configText(1)));
    f.runFor(100ms);
    f.answerAll();
    const std::size_t mark = f.port.sent.size();
    auto diff = f.manager.reload(loadYaml(configText(1, "max_rate: 1000\nstart_spread: 0s\n",
                                                      "    contact_user: other\n")));
    CHECK(diff.changed.size() == 1);
    f.runFor(100ms);
    auto requests = f.requestsSince(mark);
    REQUIRE(requests.size() == 2);
    CHECK(countWithExpiresZero(requests) == 1);
    std::set<std::string> contactUsers;
    for (const auto& m : requests) contactUsers.insert(std::string(sip::contacts(m).value().at(0).address.uri.user));
    CHECK(contactUsers == std::set<std::string>{"user0", "other"});
}

TEST_CASE("stopAll unregisters every line and ends idle") {
    Fixture f;
    f.manager.start(loadYaml(configText(3)));
    f.runFor(100ms);
    f.answerAll();
    CHECK_FALSE(f.manager.idle());
    const std::size_t mark = f.port.sent.size();
    f.manager.stopAll();
    f.runFor(50ms);
    auto requests = f.requestsSince(mark);
    CHECK(requests.size() == 3);
    CHECK(countWithExpiresZero(requests) == 3);
    f.answerAll();
    CHECK(f.manager.idle());
    CHECK(f.manager.counts()[reg::State::Stopped] == 3);
}

TEST_CASE("an OPTIONS probe from the registrar is answered 200") {
    Fixture f;
    f.manager.start(loadYaml(configText(1)));
    const std::size_t mark = f.port.sent.size();
    const std::string options =
        "OPTIONS sip:127.0.0.1:5070 SIP/2.0\r\n"
        "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKprobe1\r\n"
        "From: <sip:registrar@127.0.0.1>;tag=abc\r\n"
        "To: <sip:127.0.0.1:5070>\r\n"
        "Call-ID: probe-1\r\n"
        "CSeq: 1 OPTIONS\r\n"
        "Max-Forwards: 70\r\n"
        "Content-Length: 0\r\n\r\n";
    txn::Peer from;
    from.address = {127, 0, 0, 1};
    from.port = 5060;
    f.manager.onDatagram(options, from);
    REQUIRE(f.port.sent.size() == mark + 1);
    auto response = sip::parseDatagram(f.port.sent.back().bytes);
    REQUIRE(response.ok());
    CHECK(response->statusCode() == 200);
    CHECK(f.port.sent.back().to.port == 5060);
}

TEST_CASE("a registrar that never answers leads to waiting, and the line recovers later") {
    Fixture f;
    f.manager.start(loadYaml(configText(1)));
    f.runFor(100ms);
    const std::size_t first = f.requestsSince(0).size();
    CHECK(first == 1);
    f.runFor(32s);  // Timer F (64*T1 = 32 s) has expired; the retry (1-2 s later) has not
    CHECK(f.manager.transactions().client().counters().timeouts == 1);
    CHECK(f.manager.counts()[reg::State::Waiting] == 1);
    // Retransmissions happened over UDP (Timer E), all of the same request.
    CHECK(f.port.sent.size() > 5);
    f.answered = f.port.sent.size();
    f.runFor(5s);  // backoff base 2 s (with jitter, at most 2 s)
    f.answerAll();
    CHECK(f.manager.counts()[reg::State::Registered] == 1);
}
