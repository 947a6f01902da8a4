#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "support/sip_builders.h"
#include "support/txn_driver.h"
#include "txn/client_table.h"

using namespace sipreg;
using namespace std::chrono_literals;
using txn::TimerKind;
using txn::TxnAction;

namespace {

const TimePoint kT0{Duration{1'000'000}};

std::string registerRequest(const std::string& branch, const std::string& method = "REGISTER") {
    return method + " sip:example.com SIP/2.0\r\n"
           "Via: SIP/2.0/UDP 192.0.2.10:5060;rport;branch=" + branch + "\r\n"
           "Max-Forwards: 70\r\n"
           "From: <sip:alice@example.com>;tag=abc\r\n"
           "To: <sip:alice@example.com>\r\n"
           "Call-ID: c1\r\n"
           "CSeq: 1 " + method + "\r\n"
           "Content-Length: 0\r\n\r\n";
}

txn::Peer udpPeer() {
    txn::Peer p;
    p.address = {127, 0, 0, 1};
    p.port = 5060;
    return p;
}

struct Fixture {
    txn::ClientTransactionTable table;
    test::TxnDriver driver;
    std::vector<TxnAction> out;
    std::vector<TxnAction> deliveries;

    txn::TxnId start(const std::string& branch, txn::Peer peer = udpPeer(), TimePoint now = kT0) {
        out.clear();
        auto id = table.start(branch, "REGISTER", registerRequest(branch), peer, 77, now, out);
        REQUIRE(id.ok());
        driver.apply(out, now);
        return id.value();
    }
    txn::ClientTransactionTable::Match respond(const std::string& branch, int code,
                                               TimePoint now, const std::string& method = "REGISTER") {
        out.clear();
        test::ResponseSpec spec;
        spec.code = code;
        spec.reason = code == 200 ? "OK" : "Trying";
        auto resp = test::response(registerRequest(branch, method), spec);
        auto m = table.onResponse(resp, now, out);
        driver.apply(out, now);
        return m;
    }
    void runUntil(TimePoint until) {
        driver.runUntil(until, [&](txn::TxnId id, TimerKind kind, TimePoint at) {
            out.clear();
            table.onTimer(id, kind, at, out);
            for (auto& d : driver.apply(out, at)) deliveries.push_back(d);
        });
    }
};

}  // namespace

TEST_CASE("UDP non-INVITE client: Timer E doubles from T1 to T2, Timer F times out at 64*T1") {
    Fixture f;
    const auto id = f.start("z9hG4bKa1");
    REQUIRE(f.driver.sent.size() == 1);
    CHECK_FALSE(f.driver.sent[0].retransmission);
    CHECK(f.driver.deadline(id, TimerKind::E) == kT0 + 500ms);
    CHECK(f.driver.deadline(id, TimerKind::F) == kT0 + 32s);

    f.runUntil(kT0 + 40s);
    // Retransmissions at 0.5, 1.5, 3.5, 7.5, then every 4 s: 11.5 ... 31.5.
    std::vector<Duration> expected = {500ms, 1500ms, 3500ms, 7500ms, 11500ms, 15500ms,
                                      19500ms, 23500ms, 27500ms, 31500ms};
    REQUIRE(f.driver.sent.size() == expected.size() + 1);
    for (std::size_t i = 0; i < expected.size(); ++i) {
        CHECK(f.driver.sent[i + 1].retransmission);
        CHECK(f.driver.sent[i + 1].at == kT0 + expected[i]);
        CHECK(f.driver.sent[i + 1].bytes == f.driver.sent[0].bytes);
    }
    REQUIRE(f.deliveries.size() == 1);
    CHECK(f.deliveries[0].kind == TxnAction::Kind::DeliverTimeout);
    CHECK(f.deliveries[0].owner == 77);
    CHECK(f.deliveries[0].txn == id);
    CHECK(f.table.size() == 0);
    CHECK(f.table.counters().timeouts == 1);
    CHECK(f.table.counters().retransmissions == expected.size());
    CHECK(f.driver.timers.empty());
}

TEST_CASE("a final response completes the transaction; Timer K absorbs retransmitted responses") {
    Fixture f;
    const auto id = f.start("z9hG4bKa2");
    f.runUntil(kT0 + 600ms);  // one retransmission
    auto m = f.respond("z9hG4bKa2", 200, kT0 + 700ms);
    CHECK(m.outcome == txn::ClientTransactionTable::Match::Outcome::Deliver);
    CHECK(m.owner == 77);
    CHECK(m.txn == id);
    CHECK_FALSE(f.driver.armed(id, TimerKind::E));
    CHECK_FALSE(f.driver.armed(id, TimerKind::F));
    CHECK(f.driver.deadline(id, TimerKind::K) == kT0 + 700ms + 5s);

    auto again = f.respond("z9hG4bKa2", 200, kT0 + 800ms);
    CHECK(again.outcome == txn::ClientTransactionTable::Match::Outcome::Absorbed);
    CHECK(f.table.counters().responsesAbsorbed == 1);

    f.runUntil(kT0 + 10s);
    CHECK(f.table.size() == 0);
    CHECK(f.driver.sent.size() == 2);  // nothing more went out after the response
    auto late = f.respond("z9hG4bKa2", 200, kT0 + 11s);
    CHECK(late.outcome == txn::ClientTransactionTable::Match::Outcome::Stray);
    CHECK(f.table.counters().strayResponses == 1);
    CHECK(f.deliveries.empty());
}

TEST_CASE("a provisional response moves to Proceeding: retransmissions every T2") {
    Fixture f;
    f.start("z9hG4bKa3");
    auto m = f.respond("z9hG4bKa3", 100, kT0 + 100ms);
    CHECK(m.outcome == txn::ClientTransactionTable::Match::Outcome::Deliver);
    f.runUntil(kT0 + 10s);
    // First E (armed in Trying) at 0.5 s, then T2 steps: 4.5 s, 8.5 s.
    REQUIRE(f.driver.sent.size() == 4);
    CHECK(f.driver.sent[1].at == kT0 + 500ms);
    CHECK(f.driver.sent[2].at == kT0 + 4500ms);
    CHECK(f.driver.sent[3].at == kT0 + 8500ms);
}

TEST_CASE("reliable transport: no retransmissions, Timer F still bounds the wait, K is zero") {
    Fixture f;
    auto tcp = udpPeer();
    tcp.transport = txn::TransportKind::Tcp;
    tcp.flow = 9;
    const auto id = f.start("z9hG4bKt1", tcp);
    CHECK_FALSE(f.driver.armed(id, TimerKind::E));
    CHECK(f.driver.deadline(id, TimerKind::F) == kT0 + 32s);
    CHECK(f.driver.sent[0].peer.flow == 9);
    f.respond("z9hG4bKt1", 200, kT0 + 1s);
    CHECK(f.table.size() == 0);  // terminated at once
    CHECK(f.driver.timers.empty());

    const auto id2 = f.start("z9hG4bKt2", tcp, kT0 + 2s);
    f.runUntil(kT0 + 60s);
    CHECK(f.driver.sent.size() == 2);
    REQUIRE(f.deliveries.size() == 1);
    CHECK(f.deliveries[0].kind == TxnAction::Kind::DeliverTimeout);
    CHECK(f.deliveries[0].txn == id2);
}

TEST_CASE("responses match by top Via branch AND CSeq method; others are stray and counted") {
    Fixture f;
    f.start("z9hG4bKm1");
    auto wrongMethod = f.respond("z9hG4bKm1", 200, kT0 + 1s, "OPTIONS");
    CHECK(wrongMethod.outcome == txn::ClientTransactionTable::Match::Outcome::Stray);
    auto wrongBranch = f.respond("z9hG4bKother", 200, kT0 + 1s);
    CHECK(wrongBranch.outcome == txn::ClientTransactionTable::Match::Outcome::Stray);
    CHECK(f.table.counters().strayResponses == 2);
    CHECK(f.table.size() == 1);
    auto right = f.respond("z9hG4bKm1", 200, kT0 + 1s);
    CHECK(right.outcome == txn::ClientTransactionTable::Match::Outcome::Deliver);
}

TEST_CASE("transport error ends the transaction and is delivered once") {
    Fixture f;
    const auto id = f.start("z9hG4bKe1");
    f.out.clear();
    f.table.onTransportError(id, f.out);
    auto d = f.driver.apply(f.out, kT0);
    REQUIRE(d.size() == 1);
    CHECK(d[0].kind == TxnAction::Kind::DeliverTransportError);
    CHECK(d[0].owner == 77);
    CHECK(d[0].branch == "z9hG4bKe1");  // still readable: the transaction is retired, not freed
    CHECK(f.table.size() == 0);
    CHECK(f.driver.timers.empty());
    CHECK(f.table.counters().transportErrors == 1);
}

TEST_CASE("a timeout names the transaction's branch; findByBranch finds live transactions only") {
    Fixture f;
    const auto id = f.start("z9hG4bKf1");
    CHECK(f.table.findByBranch("z9hG4bKf1") == id);
    CHECK_FALSE(f.table.findByBranch("z9hG4bKnope").has_value());
    f.out.clear();
    f.table.onTimer(id, TimerKind::F, kT0 + 32s, f.out);
    bool sawTimeout = false;
    for (const auto& a : f.out) {
        if (a.kind != TxnAction::Kind::DeliverTimeout) continue;
        sawTimeout = true;
        CHECK(a.branch == "z9hG4bKf1");
    }
    CHECK(sawTimeout);
    CHECK_FALSE(f.table.findByBranch("z9hG4bKf1").has_value());
}

TEST_CASE("stale timer firings and abandoned transactions produce nothing") {
    Fixture f;
    const auto id = f.start("z9hG4bKs1");
    f.out.clear();
    f.table.onTimer(id, TimerKind::E, kT0 + 100ms, f.out);  // not due yet
    f.table.onTimer(id, TimerKind::K, kT0 + 10s, f.out);    // never armed
    CHECK(f.out.empty());
    f.table.abandon(id, f.out);
    f.driver.apply(f.out, kT0);
    CHECK(f.table.size() == 0);
    CHECK(f.driver.timers.empty());
    f.out.clear();
    f.table.onTimer(id, TimerKind::F, kT0 + 40s, f.out);
    CHECK(f.out.empty());
}

TEST_CASE("a branch in use cannot start a second transaction; an empty branch is refused") {
    Fixture f;
    f.start("z9hG4bKd1");
    std::vector<TxnAction> out;
    auto dup = f.table.start("z9hG4bKd1", "REGISTER", registerRequest("z9hG4bKd1"), udpPeer(), 1, kT0, out);
    CHECK_FALSE(dup.ok());
    auto empty = f.table.start("", "REGISTER", registerRequest(""), udpPeer(), 1, kT0, out);
    CHECK_FALSE(empty.ok());
    CHECK(out.empty());
}

TEST_CASE("a response with our branch but another Call-ID or CSeq number answers nothing of ours") {
    Fixture f;
    const auto id = f.start("z9hG4bKid1");
    test::ResponseSpec spec;
    spec.code = 403;
    spec.reason = "Forbidden";
    const std::string ours = test::responseText(registerRequest("z9hG4bKid1"), spec);
    auto replaced = [&](const std::string& from, const std::string& to) {
        std::string text = ours;
        text.replace(text.find(from), from.size(), to);
        return test::parseSip(text);
    };
    for (const auto& forged : {replaced("Call-ID: c1", "Call-ID: someone-else"),
                               replaced("CSeq: 1 REGISTER", "CSeq: 2 REGISTER")}) {
        f.out.clear();
        auto m = f.table.onResponse(forged, kT0 + 10ms, f.out);
        CHECK(m.outcome == txn::ClientTransactionTable::Match::Outcome::Stray);
        CHECK(f.out.empty());
    }
    CHECK(f.table.counters().strayResponses == 2);
    // The real answer still completes the transaction.
    auto real = f.respond("z9hG4bKid1", 200, kT0 + 20ms);
    CHECK(real.outcome == txn::ClientTransactionTable::Match::Outcome::Deliver);
    CHECK(real.txn == id);
}

TEST_CASE("a response with a second Via was meant for someone behind us") {
    Fixture f;
    f.start("z9hG4bKv1");
    test::ResponseSpec spec;
    std::string text = test::responseText(registerRequest("z9hG4bKv1"), spec);
    const auto via = text.find("Via:");
    const auto afterVia = text.find("\r\n", via) + 2;
    text.insert(afterVia, "Via: SIP/2.0/UDP 198.51.100.1:5060;branch=z9hG4bKbehind\r\n");
    f.out.clear();
    auto m = f.table.onResponse(test::parseSip(text), kT0 + 10ms, f.out);
    CHECK(m.outcome == txn::ClientTransactionTable::Match::Outcome::Stray);
    CHECK(f.respond("z9hG4bKv1", 200, kT0 + 20ms).outcome == txn::ClientTransactionTable::Match::Outcome::Deliver);
}
