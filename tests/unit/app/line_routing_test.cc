// Where a line's requests go: outbound proxy Route, RFC 3263 failover over the targets the
// resolver gave, TCP/TLS flows (shared, awaited, lost) and lookups that answer later.
#include <doctest/doctest.h>

#include <algorithm>

#include "manager_fixture.h"

using namespace sipreg;
using namespace sipreg::testing;
using namespace std::chrono_literals;

namespace {

std::string oneLine(const std::string& registrarAndMore) {
    return "listen: { address: 127.0.0.1, port: 5070 }\nmax_rate: 1000\nstart_spread: 0s\n"
           "defaults: { expires: 600, retry: { base: 2s, max: 60s } }\nlines:\n"
           "  - id: a\n    aor: sip:alice@example.com\n" + registrarAndMore;
}

std::vector<const FakePort::Sent*> registersSince(const Fixture& f, std::size_t from) {
    std::vector<const FakePort::Sent*> out;
    std::set<std::string> seen;
    for (std::size_t i = from; i < f.port.sent.size(); ++i) {
        const auto& s = f.port.sent[i];
        if (s.bytes.rfind("REGISTER ", 0) != 0 || !seen.insert(s.bytes).second) continue;
        out.push_back(&s);
    }
    return out;
}

std::string header(const std::string& bytes, const std::string& name) {
    auto m = sip::parseDatagram(bytes);
    REQUIRE(m.ok());
    std::string all;
    for (const auto& h : m->headers()) {
        if (h.name == name) all += (all.empty() ? "" : " | ") + std::string(h.value);
    }
    return all;
}

}  // namespace

TEST_CASE("an outbound proxy gets the request with a Route header; the Request-URI stays the registrar's") {
    Fixture f;
    f.manager.start(loadYaml(oneLine("    registrar: sip:127.0.0.1:5060\n    outbound_proxy: sip:127.0.0.1:5080\n")));
    f.runFor(50ms);
    auto regs = registersSince(f, 0);
    REQUIRE(regs.size() == 1);
    CHECK(regs[0]->to.port == 5080);
    CHECK(regs[0]->bytes.rfind("REGISTER sip:127.0.0.1:5060 SIP/2.0\r\n", 0) == 0);
    CHECK(header(regs[0]->bytes, "Route") == "<sip:127.0.0.1:5080;lr>");
    f.answerAll();
    CHECK(f.manager.counts()[reg::State::Registered] == 1);
}

TEST_CASE("without an outbound proxy no Route header is sent") {
    Fixture f;
    f.manager.start(loadYaml(oneLine("    registrar: sip:127.0.0.1:5060\n")));
    f.runFor(50ms);
    auto regs = registersSince(f, 0);
    REQUIRE(regs.size() == 1);
    CHECK(header(regs[0]->bytes, "Route").empty());
}

TEST_CASE("a 503 moves the line to the next target at once, and it stays there") {
    Fixture f;
    f.port.dns["pbx.test"] = {FakePort::peerAt(5061), FakePort::peerAt(5062)};
    f.manager.start(loadYaml(oneLine("    registrar: sip:pbx.test\n")));
    f.runFor(50ms);
    auto first = registersSince(f, 0);
    REQUIRE(first.size() == 1);
    CHECK(first[0]->to.port == 5061);
    const std::size_t mark = f.port.sent.size();
    f.answerAll(503, "Service Unavailable");
    auto second = registersSince(f, mark);
    REQUIRE(second.size() == 1);  // no backoff wait before the other target
    CHECK(second[0]->to.port == 5062);
    f.answerAll();
    CHECK(f.manager.counts()[reg::State::Registered] == 1);
    // The refresh goes where the registration succeeded.
    const std::size_t beforeRefresh = f.port.sent.size();
    f.runFor(600s);
    auto refresh = registersSince(f, beforeRefresh);
    REQUIRE(!refresh.empty());
    CHECK(refresh[0]->to.port == 5062);
}

TEST_CASE("a silent target is left after Timer F for the next one, without the backoff") {
    Fixture f;
    f.port.dns["pbx.test"] = {FakePort::peerAt(5061), FakePort::peerAt(5062)};
    f.manager.start(loadYaml(oneLine("    registrar: sip:pbx.test\n")));
    f.runFor(31s);
    for (const auto* r : registersSince(f, 0)) CHECK(r->to.port == 5061);
    const std::size_t mark = f.port.sent.size();
    f.runFor(2s);  // Timer F (32 s) fires; the last retransmission to 5061 may come first
    auto next = registersSince(f, mark);
    CHECK(std::any_of(next.begin(), next.end(), [](const auto* r) { return r->to.port == 5062; }));
    f.answered = mark;
    f.answerAll();
    CHECK(f.manager.counts()[reg::State::Registered] == 1);
}

TEST_CASE("when every target failed the backoff decides the next round") {
    Fixture f;
    f.port.dns["pbx.test"] = {FakePort::peerAt(5061), FakePort::peerAt(5062)};
    f.manager.start(loadYaml(oneLine("    registrar: sip:pbx.test\n")));
    f.runFor(50ms);
    f.answerAll(503, "Service Unavailable");
    const std::size_t mark = f.port.sent.size();
    f.answerAll(503, "Service Unavailable");
    CHECK(registersSince(f, mark).empty());  // both failed: wait
    CHECK(f.manager.counts()[reg::State::Waiting] == 1);
    f.runFor(10s);  // the backoff: retry base 2 s, doubled per failure, with jitter
    auto retry = registersSince(f, mark);
    REQUIRE(retry.size() == 1);
    CHECK(retry[0]->to.port == 5061);  // the order is kept: round two starts at the top
}

TEST_CASE("TCP: lines share one flow and advertise its local address in Via and Contact") {
    Fixture f;
    std::string text = "listen: { address: 127.0.0.1, port: 5070 }\nmax_rate: 1000\nstart_spread: 0s\n"
                       "defaults: { expires: 600, transport: tcp }\nlines:\n" + lines(3);
    f.manager.start(loadYaml(text));
    f.runFor(50ms);
    auto regs = registersSince(f, 0);
    REQUIRE(regs.size() == 3);
    REQUIRE(f.port.flows.size() == 1);
    const auto& flow = f.port.flows.begin()->second;
    CHECK(flow.refs == 3);
    const std::string port = std::to_string(flow.localPort);
    for (const auto* r : regs) {
        CHECK(r->to.flow == f.port.flows.begin()->first);
        CHECK(header(r->bytes, "Via").rfind("SIP/2.0/TCP 127.0.0.1:" + port + ";", 0) == 0);
        CHECK(header(r->bytes, "Contact").find("@127.0.0.1:" + port + ";transport=tcp>") != std::string::npos);
    }
    f.answerAll();
    CHECK(f.manager.counts()[reg::State::Registered] == 3);
}

TEST_CASE("TCP: nothing is sent before the connection is up") {
    Fixture f;
    f.port.connectAtOnce = false;
    f.manager.start(loadYaml(oneLine("    registrar: sip:127.0.0.1:5060\n    transport: tcp\n")));
    f.runFor(50ms);
    CHECK(f.port.sent.empty());
    CHECK(f.manager.line("a")->state == reg::State::Stopped);
    f.port.flows.begin()->second.status = app::FlowState::Status::Connected;
    f.manager.onFlowConnected(f.port.flows.begin()->first);
    REQUIRE(registersSince(f, 0).size() == 1);
    f.answerAll();
    CHECK(f.manager.counts()[reg::State::Registered] == 1);
}

TEST_CASE("TCP: a connection that never comes up puts the line in waiting with the reason") {
    Fixture f;
    f.port.connectAtOnce = false;
    f.manager.start(loadYaml(oneLine("    registrar: sip:127.0.0.1:5060\n    transport: tcp\n")));
    f.runFor(50ms);
    f.port.flows.begin()->second.status = app::FlowState::Status::Closed;
    f.manager.onFlowClosed(f.port.flows.begin()->first, "connection refused");
    CHECK(f.port.sent.empty());
    CHECK(f.manager.line("a")->state == reg::State::Waiting);
    CHECK(f.port.flows.begin()->second.refs == 0);
}

TEST_CASE("TCP: a refused connect fails the line alone") {
    Fixture f;
    std::string text = oneLine("    registrar: sip:127.0.0.1:5099\n    transport: tcp\n") +
                       "  - id: b\n    aor: sip:bob@example.com\n    registrar: sip:127.0.0.1:5060\n";
    f.port.refusedPorts.insert(5099);
    f.manager.start(loadYaml(text));
    f.runFor(50ms);
    f.answerAll();
    CHECK(f.manager.line("a")->state == reg::State::Waiting);
    CHECK(f.manager.line("b")->state == reg::State::Registered);
}

TEST_CASE("TCP: a lost connection makes registered lines register again over a new one") {
    Fixture f;
    f.manager.start(loadYaml(oneLine("    registrar: sip:127.0.0.1:5060\n    transport: tcp\n")));
    f.runFor(50ms);
    f.answerAll();
    REQUIRE(f.manager.counts()[reg::State::Registered] == 1);
    const uint64_t oldFlow = f.port.flows.begin()->first;
    const std::string oldPort = std::to_string(f.port.flows.begin()->second.localPort);
    f.port.flows[oldFlow].status = app::FlowState::Status::Closed;
    const std::size_t mark = f.port.sent.size();
    f.manager.onFlowClosed(oldFlow, "connection reset by peer");
    CHECK(f.manager.line("a")->state == reg::State::Registering);
    auto again = registersSince(f, mark);
    REQUIRE(again.size() == 1);
    CHECK(again[0]->to.flow != oldFlow);
    const std::string contacts = header(again[0]->bytes, "Contact");
    // The new flow's contact, and the dead flow's binding removed.
    CHECK(contacts.find("127.0.0.1:" + std::to_string(f.port.flows[again[0]->to.flow].localPort) +
                        ";transport=tcp>;expires=600") != std::string::npos);
    CHECK(contacts.find("127.0.0.1:" + oldPort + ";transport=tcp>;expires=0") != std::string::npos);
    CHECK(f.port.flows[oldFlow].refs == 0);
    f.answerAll();
    CHECK(f.manager.counts()[reg::State::Registered] == 1);
}

TEST_CASE("TCP: a request in flight on a lost connection fails at once, not at Timer F") {
    Fixture f;
    f.manager.start(loadYaml(oneLine("    registrar: sip:127.0.0.1:5060\n    transport: tcp\n")));
    f.runFor(50ms);
    const uint64_t flow = f.port.flows.begin()->first;
    f.port.flows[flow].status = app::FlowState::Status::Closed;
    f.manager.onFlowClosed(flow, "connection reset by peer");
    CHECK(f.manager.line("a")->state == reg::State::Waiting);
}

TEST_CASE("a lookup that answers later holds the line, then it registers") {
    Fixture f;
    f.port.pendingHosts.insert("slow.test");
    f.port.dns["slow.test"] = {FakePort::peerAt(5066)};
    f.manager.start(loadYaml(oneLine("    registrar: sip:slow.test\n")));
    f.runFor(50ms);
    CHECK(f.port.sent.empty());
    f.port.pendingHosts.clear();
    f.manager.onResolved();
    auto regs = registersSince(f, 0);
    REQUIRE(regs.size() == 1);
    CHECK(regs[0]->to.port == 5066);
    CHECK(regs[0]->bytes.rfind("REGISTER sip:slow.test SIP/2.0\r\n", 0) == 0);
}

TEST_CASE("a new DNS answer keeps a working line on its target when it is still listed") {
    Fixture f;
    f.port.dns["pbx.test"] = {FakePort::peerAt(5061), FakePort::peerAt(5062)};
    f.manager.start(loadYaml(oneLine("    registrar: sip:pbx.test\n")));
    f.runFor(50ms);
    f.answerAll(503, "Service Unavailable");
    f.answerAll();
    REQUIRE(f.manager.counts()[reg::State::Registered] == 1);
    f.port.dns["pbx.test"] = {FakePort::peerAt(5061), FakePort::peerAt(5063), FakePort::peerAt(5062)};
    ++f.port.generation;
    const std::size_t mark = f.port.sent.size();
    f.runFor(600s);
    auto refresh = registersSince(f, mark);
    REQUIRE(!refresh.empty());
    CHECK(refresh[0]->to.port == 5062);
}

TEST_CASE("no transport given: the resolver's choice (NAPTR) sets Via and Contact") {
    Fixture f;
    f.port.dns["pbx.test"] = {FakePort::peerAt(5060, txn::TransportKind::Tcp)};
    f.manager.start(loadYaml(oneLine("    registrar: sip:pbx.test\n")));
    f.runFor(50ms);
    auto regs = registersSince(f, 0);
    REQUIRE(regs.size() == 1);
    CHECK(regs[0]->to.transport == txn::TransportKind::Tcp);
    CHECK(header(regs[0]->bytes, "Via").rfind("SIP/2.0/TCP ", 0) == 0);
    CHECK(header(regs[0]->bytes, "Contact").find(";transport=tcp>") != std::string::npos);
}
