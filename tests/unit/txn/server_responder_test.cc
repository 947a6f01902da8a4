#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "sip/typed_headers.h"
#include "support/sip_builders.h"
#include "support/txn_driver.h"
#include "txn/server_responder.h"
#include "txn/transaction_layer.h"

using namespace sipreg;
using namespace std::chrono_literals;
using txn::TimerKind;
using txn::TxnAction;

namespace {

const TimePoint kT0{Duration{5'000'000}};

std::string request(const std::string& method, const std::string& branch,
                    const std::string& cseqMethod = "", bool withCallId = true,
                    bool withVia = true) {
    std::string r = method + " sip:alice@192.0.2.10:5060 SIP/2.0\r\n";
    if (withVia) r += "Via: SIP/2.0/UDP 198.51.100.1:5060;branch=" + branch + "\r\n";
    r += "Max-Forwards: 70\r\n"
         "From: <sip:registrar@example.com>;tag=peer1\r\n"
         "To: <sip:alice@example.com>\r\n";
    if (withCallId) r += "Call-ID: call-" + branch + "\r\n";
    r += "CSeq: 5 " + (cseqMethod.empty() ? method : cseqMethod) + "\r\n"
         "Content-Length: 0\r\n\r\n";
    return r;
}

txn::Peer peer(txn::TransportKind t = txn::TransportKind::Udp) {
    txn::Peer p;
    p.address = {198, 51, 100, 1};
    p.port = 5060;
    p.transport = t;
    return p;
}

struct Fixture {
    explicit Fixture(txn::ResponderSettings s = {}) : responder(std::move(s), {}, 1234) {}
    txn::ServerResponder responder;
    test::TxnDriver driver;
    std::vector<TxnAction> out;

    void receive(const std::string& text, TimePoint now, txn::Peer from = peer()) {
        out.clear();
        responder.onRequest(test::parseSip(text), from, now, out);
        driver.apply(out, now);
    }
    sip::Message lastSent() const { return test::parseSip(driver.sent.back().bytes); }
    void runUntil(TimePoint until) {
        driver.runUntil(until, [&](txn::TxnId id, TimerKind kind, TimePoint at) {
            out.clear();
            responder.onTimer(id, kind, at, out);
            driver.apply(out, at);
        });
    }
};

}  // namespace

TEST_CASE("OPTIONS gets 200 OK with Allow, Accept, Supported and a To tag, sent back to the source") {
    Fixture f;
    f.receive(request("OPTIONS", "z9hG4bKo1"), kT0);
    REQUIRE(f.driver.sent.size() == 1);
    CHECK(f.driver.sent[0].peer == peer());
    auto m = f.lastSent();
    CHECK(m.statusCode() == 200);
    CHECK(m.header("Allow").value() == txn::kAllowedMethods);
    CHECK(m.header("Accept").value() == "application/sdp");
    CHECK(m.header("Supported").value() == "path");
    auto to = sip::toHeader(m);
    REQUIRE(to.ok());
    CHECK_FALSE(to->tag().empty());
    CHECK(sip::callId(m).value() == "call-z9hG4bKo1");
    CHECK(sip::cseq(m)->method == "OPTIONS");
    CHECK(sip::vias(m)->front().branch() == "z9hG4bKo1");
    CHECK(f.responder.counters().requests == 1);
}

TEST_CASE("a retransmitted request gets the same response from the cache until Timer J") {
    Fixture f;
    f.receive(request("OPTIONS", "z9hG4bKo2"), kT0);
    f.receive(request("OPTIONS", "z9hG4bKo2"), kT0 + 1s);
    REQUIRE(f.driver.sent.size() == 2);
    CHECK(f.driver.sent[1].bytes == f.driver.sent[0].bytes);
    CHECK(f.driver.sent[1].retransmission);
    CHECK(f.responder.counters().retransmissionsAnswered == 1);
    CHECK(f.responder.size() == 1);

    f.runUntil(kT0 + 32s);  // Timer J = 64*T1
    CHECK(f.responder.size() == 0);
    f.receive(request("OPTIONS", "z9hG4bKo2"), kT0 + 33s);
    REQUIRE(f.driver.sent.size() == 3);
    CHECK(f.driver.sent[2].bytes != f.driver.sent[0].bytes);  // a new answer, new To tag
}

TEST_CASE("NOTIFY gets 200 OK; over TCP nothing is cached") {
    Fixture f;
    f.receive(request("NOTIFY", "z9hG4bKn1"), kT0, peer(txn::TransportKind::Tcp));
    CHECK(f.lastSent().statusCode() == 200);
    CHECK(f.responder.size() == 0);
    CHECK(f.driver.timers.empty());
}

TEST_CASE("INVITE over UDP: 480 by default, Timer G retransmits until the ACK, then Timer I") {
    Fixture f;
    f.receive(request("INVITE", "z9hG4bKi1"), kT0);
    auto m = f.lastSent();
    CHECK(m.statusCode() == 480);
    CHECK(m.reason() == "Temporarily Unavailable");
    const auto toTag = std::string(sip::toHeader(m)->tag());
    CHECK_FALSE(toTag.empty());

    f.runUntil(kT0 + 3600ms);  // G at 0.5, 1.5, 3.5
    REQUIRE(f.driver.sent.size() == 4);
    CHECK(f.driver.sent[1].at == kT0 + 500ms);
    CHECK(f.driver.sent[2].at == kT0 + 1500ms);
    CHECK(f.driver.sent[3].at == kT0 + 3500ms);
    CHECK(f.driver.sent[3].bytes == f.driver.sent[0].bytes);

    // The ACK for a non-2xx final response carries the INVITE's branch.
    std::string ack = request("ACK", "z9hG4bKi1");
    ack.replace(ack.find("To: <sip:alice@example.com>"), 27, "To: <sip:alice@example.com>;tag=" + toTag);
    f.receive(ack, kT0 + 4s);
    CHECK(f.driver.sent.size() == 4);
    CHECK(f.responder.counters().acksAbsorbed == 1);
    f.receive(request("INVITE", "z9hG4bKi1"), kT0 + 4100ms);  // INVITE repeat in Confirmed
    f.receive(ack, kT0 + 4200ms);
    CHECK(f.driver.sent.size() == 4);
    f.runUntil(kT0 + 60s);
    CHECK(f.driver.sent.size() == 4);  // G stopped
    CHECK(f.responder.size() == 0);    // Timer I ended it
    CHECK(f.responder.counters().ackTimeouts == 0);
}

TEST_CASE("INVITE without an ACK: Timer H gives up after 64*T1; INVITE repeats get the response") {
    txn::ResponderSettings s;
    s.inviteStatus = 486;
    s.inviteReason = "Busy Here";
    Fixture f(s);
    f.receive(request("INVITE", "z9hG4bKi2"), kT0);
    CHECK(f.lastSent().statusCode() == 486);
    f.receive(request("INVITE", "z9hG4bKi2"), kT0 + 100ms);
    CHECK(f.driver.sent.size() == 2);
    CHECK(f.driver.sent[1].bytes == f.driver.sent[0].bytes);
    f.runUntil(kT0 + 40s);
    CHECK(f.responder.counters().ackTimeouts == 1);
    CHECK(f.responder.size() == 0);
    CHECK(f.driver.timers.empty());
    const auto sentBefore = f.driver.sent.size();
    f.runUntil(kT0 + 100s);
    CHECK(f.driver.sent.size() == sentBefore);
}

TEST_CASE("INVITE over TCP: no Timer G, Timer H waits for the ACK, the ACK ends it") {
    Fixture f;
    f.receive(request("INVITE", "z9hG4bKi3"), kT0, peer(txn::TransportKind::Tcp));
    CHECK(f.driver.timers.size() == 1);  // H only
    f.receive(request("ACK", "z9hG4bKi3"), kT0 + 1s, peer(txn::TransportKind::Tcp));
    CHECK(f.responder.size() == 0);
    CHECK(f.driver.timers.empty());
}

TEST_CASE("an out-of-range INVITE status falls back to 480") {
    txn::ResponderSettings s;
    s.inviteStatus = 200;
    s.inviteReason = "OK";
    Fixture f(s);
    f.receive(request("INVITE", "z9hG4bKi4"), kT0);
    CHECK(f.lastSent().statusCode() == 480);
}

TEST_CASE("an ACK matching nothing is dropped and counted") {
    Fixture f;
    f.receive(request("ACK", "z9hG4bKnone"), kT0);
    CHECK(f.driver.sent.empty());
    CHECK(f.responder.counters().acksDropped == 1);
}

TEST_CASE("known but unsupported methods get 405 with Allow; unknown methods 501") {
    for (const char* method : {"REGISTER", "SUBSCRIBE", "MESSAGE", "INFO", "UPDATE", "PRACK", "REFER", "PUBLISH"}) {
        CAPTURE(method);
        Fixture f;
        f.receive(request(method, "z9hG4bKu1"), kT0);
        auto m = f.lastSent();
        CHECK(m.statusCode() == 405);
        CHECK(m.header("Allow").value() == txn::kAllowedMethods);
    }
    Fixture f;
    f.receive(request("FROBNICATE", "z9hG4bKu2"), kT0);
    CHECK(f.lastSent().statusCode() == 501);
    CHECK_FALSE(f.lastSent().header("Allow").has_value());
}

TEST_CASE("BYE and CANCEL without a transaction get 481; CANCEL of an answered INVITE gets 200") {
    Fixture f;
    f.receive(request("BYE", "z9hG4bKb1"), kT0);
    CHECK(f.lastSent().statusCode() == 481);
    f.receive(request("CANCEL", "z9hG4bKc1"), kT0);
    CHECK(f.lastSent().statusCode() == 481);
    f.receive(request("INVITE", "z9hG4bKc2"), kT0);
    f.receive(request("CANCEL", "z9hG4bKc2"), kT0 + 10ms);
    CHECK(f.lastSent().statusCode() == 200);
    CHECK(sip::cseq(f.lastSent())->method == "CANCEL");
}

TEST_CASE("requests missing a mandatory header get 400; without a Via they are dropped") {
    Fixture f;
    f.receive(request("OPTIONS", "z9hG4bKv1", "", /*withCallId=*/false), kT0);
    CHECK(f.lastSent().statusCode() == 400);
    CHECK(f.lastSent().reason() == "Missing Call-ID");
    f.receive(request("OPTIONS", "z9hG4bKv2", "NOTIFY"), kT0);
    CHECK(f.lastSent().statusCode() == 400);
    CHECK(f.responder.counters().badRequests == 2);
    const auto sent = f.driver.sent.size();
    f.receive(request("OPTIONS", "z9hG4bKv3", "", true, /*withVia=*/false), kT0);
    CHECK(f.driver.sent.size() == sent);
    CHECK(f.responder.counters().dropped == 1);
}

TEST_CASE("the transaction layer routes responses to clients, requests to the responder, timers by kind") {
    txn::TransactionLayer layer({}, {}, 99);
    std::vector<TxnAction> out;
    auto in = layer.onMessage(test::parseSip(request("OPTIONS", "z9hG4bKl1")), peer(), kT0, out);
    CHECK_FALSE(in.wasResponse);
    REQUIRE(out.size() == 2);  // Send + Timer J
    CHECK(out[0].kind == TxnAction::Kind::Send);
    CHECK(out[1].timer == TimerKind::J);
    const auto jId = out[1].txn;
    out.clear();
    layer.onTimer(jId, TimerKind::J, kT0 + 32s, out);
    CHECK(layer.server().size() == 0);

    std::string req = request("OPTIONS", "z9hG4bKl2");
    out.clear();
    REQUIRE(layer.client().start("z9hG4bKl2", "OPTIONS", req, peer(), 5, kT0, out).ok());
    out.clear();
    auto resp = layer.onMessage(test::response(req, {}), peer(), kT0 + 1s, out);
    CHECK(resp.wasResponse);
    CHECK(resp.match.outcome == txn::ClientTransactionTable::Match::Outcome::Deliver);
    CHECK(resp.match.owner == 5);
}

TEST_CASE("a flood cannot pin more than kMaxServerTransactions answered requests") {
    Fixture f;
    for (std::size_t i = 0; i < txn::kMaxServerTransactions + 5; ++i) {
        f.receive(request("OPTIONS", "z9hG4bKflood" + std::to_string(i)), kT0);
    }
    CHECK(f.responder.size() == txn::kMaxServerTransactions);
    CHECK(f.responder.counters().requests == txn::kMaxServerTransactions);
    CHECK(f.responder.counters().busy == 5);
    CHECK(f.driver.sent.size() == txn::kMaxServerTransactions);
    // A retransmission of an answered request is still answered from the cache.
    f.receive(request("OPTIONS", "z9hG4bKflood7"), kT0 + 1ms);
    CHECK(f.responder.counters().retransmissionsAnswered == 1);
    // Timer J frees the slots; new requests are answered again.
    f.runUntil(kT0 + 33s);
    CHECK(f.responder.size() == 0);
    f.receive(request("OPTIONS", "z9hG4bKafter"), kT0 + 33s);
    CHECK(f.responder.counters().requests == txn::kMaxServerTransactions + 1);
    CHECK(f.lastSent().statusCode() == 200);
}
