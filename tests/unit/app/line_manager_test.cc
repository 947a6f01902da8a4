#include <doctest/doctest.h>

#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "app/line_manager.h"
#include "config/loader.h"
#include "crypto/random_source.h"
#include "sip/serializer.h"
#include "sip/typed_headers.h"

using namespace sipreg;
using namespace std::chrono_literals;

namespace {

struct FakePort final : app::EnginePort {
    struct Sent {
        txn::Peer to;
        std::string bytes;
    };
    std::vector<Sent> sent;
    std::set<std::string> unresolvable;

    Result<txn::Peer> resolve(const config::SipTarget& target, config::Transport) override {
        if (unresolvable.count(target.host) != 0) return makeError("no such host " + target.host);
        txn::Peer p;
        p.address = {127, 0, 0, 1};
        p.port = target.port.value_or(5060);
        return p;
    }
    Result<app::LocalAddress> localAddressFor(const txn::Peer&) override {
        return app::LocalAddress{"127.0.0.1", 5070};
    }
    Result<void> send(const txn::Peer& to, std::string_view bytes) override {
        sent.push_back(Sent{to, std::string(bytes)});
        return {};
    }
    void timersChanged() override {}
};

config::Config loadYaml(const std::string& yaml) {
    auto r = config::loadConfigString(yaml, "test.yaml");
    if (!r.ok()) {
        for (const auto& e : r.errors) MESSAGE(e.toString());
    }
    REQUIRE(r.ok());
    return *r.config;
}

std::string lines(int n, const std::string& extra = "") {
    std::string s;
    for (int i = 0; i < n; ++i) {
        s += "  - id: line" + std::to_string(i) + "\n"
             "    registrar: 127.0.0.1:5060\n"
             "    aor: sip:user" + std::to_string(i) + "@example.com\n" + extra;
    }
    return s;
}

std::string configText(int n, const std::string& global = "max_rate: 1000\nstart_spread: 0s\n",
                       const std::string& extra = "") {
    return "listen: { address: 127.0.0.1, port: 5070 }\n" + global +
           "defaults: { expires: 600, retry: { base: 2s, max: 60s } }\nlines:\n" + lines(n, extra);
}

struct Fixture {
    ManualClock clock;
    TimerQueue timers;
    FakePort port;
    crypto::DeterministicRandomSource random{42};
    std::shared_ptr<spdlog::logger> log =
        std::make_shared<spdlog::logger>("test", std::make_shared<spdlog::sinks::null_sink_mt>());
    app::LineManager manager{app::ManagerSettings{}, port, timers, clock, random, log};
    std::size_t answered = 0;

    void runFor(Duration d) {
        const TimePoint end = clock.now() + d;
        for (int guard = 0; guard < 1'000'000 && clock.now() < end; ++guard) {
            timers.runDue(clock.now());
            clock.advance(10ms);
        }
        timers.runDue(clock.now());
    }

    // Distinct requests (UDP retransmissions repeat the same bytes).
    std::vector<sip::Message> requestsSince(std::size_t from) const {
        std::vector<sip::Message> out;
        std::set<std::string> seen;
        for (std::size_t i = from; i < port.sent.size(); ++i) {
            if (!seen.insert(port.sent[i].bytes).second) continue;
            auto m = sip::parseDatagram(port.sent[i].bytes);
            if (m && m->isRequest()) out.push_back(std::move(*m));
        }
        return out;
    }

    // Answers every REGISTER sent since the last call the way a registrar would: 200 with
    // our Contact and the requested expiry (or the given status code).
    void answerAll(int code = 200, std::string reason = "OK") {
        const std::size_t end = port.sent.size();
        for (std::size_t i = answered; i < end; ++i) {
            auto m = sip::parseDatagram(port.sent[i].bytes);
            if (!m || !m->isRequest() || m->method() != "REGISTER") continue;
            std::vector<sip::OutHeader> extra;
            if (code == 200) {
                auto contacts = sip::contacts(*m).value();
                auto expires = sip::expires(*m).value().value_or(3600);
                if (expires > 0 && !contacts.empty()) {
                    extra.push_back({"Contact", "<" + std::string(contacts[0].address.uri.scheme) + ":" +
                                                    std::string(contacts[0].address.uri.user) + "@" +
                                                    contacts[0].address.uri.hostPort() +
                                                    ">;expires=" + std::to_string(expires)});
                }
            }
            auto response = sip::serialize(sip::makeResponse(*m, code, reason, "regtag", extra));
            txn::Peer from;
            from.address = {127, 0, 0, 1};
            from.port = 5060;
            manager.onDatagram(response, from);
        }
        answered = end;
    }
};

std::size_t countWithExpiresZero(const std::vector<sip::Message>& requests) {
    std::size_t n = 0;
    for (const auto& m : requests) {
        auto e = sip::expires(m);
        if (e && e->has_value() && **e == 0) ++n;
    }
    return n;
}

std::set<std::string> toUsers(const std::vector<sip::Message>& requests) {
    std::set<std::string> users;
    for (const auto& m : requests) users.insert(std::string(sip::toHeader(m).value().uri.user));
    return users;
}

}  // namespace

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

TEST_CASE("a line whose registrar cannot be resolved fails alone") {
    Fixture f;
    f.port.unresolvable.insert("nowhere.invalid");
    std::string text = configText(2) +
                       "  - id: broken\n    registrar: sip:nowhere.invalid\n    aor: sip:x@nowhere.invalid\n";
    f.manager.start(loadYaml(text));
    f.runFor(100ms);
    f.answerAll();
    CHECK(f.manager.counts()[reg::State::Registered] == 2);
    CHECK(f.manager.counts()[reg::State::Failed] == 1);
    auto broken = f.manager.line("broken");
    REQUIRE(broken.has_value());
    CHECK(broken->state == reg::State::Failed);
    CHECK(broken->setupError.find("nowhere.invalid") != std::string_view::npos);
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
