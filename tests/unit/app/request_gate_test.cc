#include <doctest/doctest.h>

#include "manager_fixture.h"

using namespace sipreg;
using namespace sipreg::testing;
using namespace std::chrono_literals;

namespace {

std::string options(const std::string& branch) {
    return "OPTIONS sip:127.0.0.1:5070 SIP/2.0\r\n"
           "Via: SIP/2.0/UDP 127.0.0.9:5060;branch=" + branch + "\r\n"
           "From: <sip:scanner@127.0.0.9>;tag=abc\r\n"
           "To: <sip:127.0.0.1:5070>\r\n"
           "Call-ID: " + branch + "\r\n"
           "CSeq: 1 OPTIONS\r\n"
           "Max-Forwards: 70\r\n"
           "Content-Length: 0\r\n\r\n";
}

txn::Peer at(uint8_t last, uint64_t flow = 0) {
    txn::Peer p;
    p.address = {127, 0, 0, last};
    p.port = 5060;
    p.flow = flow;
    if (flow != 0) p.transport = txn::TransportKind::Tcp;
    return p;
}

std::size_t sendsTo(const Fixture& f, std::size_t from, uint8_t last) {
    std::size_t n = 0;
    for (std::size_t i = from; i < f.port.sent.size(); ++i) n += f.port.sent[i].to.address[3] == last ? 1 : 0;
    return n;
}

const std::string kRegistrarsOnly = "max_rate: 1000\nstart_spread: 0s\nrequests: { answer_from: registrars }\n";

}  // namespace

TEST_CASE("answer_from registrars: a stranger gets nothing, the registrar still gets its 200") {
    Fixture f;
    f.manager.start(loadYaml(configText(2, kRegistrarsOnly)));
    f.runFor(100ms);
    f.answerAll();
    const std::size_t mark = f.port.sent.size();
    for (int i = 0; i < 20; ++i) f.manager.onDatagram(options("z9hG4bKs" + std::to_string(i)), at(9));
    CHECK(sendsTo(f, mark, 9) == 0);
    CHECK(f.manager.requestCounters().droppedStranger == 20);
    CHECK(f.manager.transactions().server().counters().requests == 0);
    f.manager.onDatagram(options("z9hG4bKreg"), at(1));
    REQUIRE(sendsTo(f, mark, 1) == 1);
    CHECK(sip::parseDatagram(f.port.sent.back().bytes)->statusCode() == 200);
    CHECK(f.manager.counts()[reg::State::Registered] == 2);
}

TEST_CASE("answer_from registrars: a request over one of our connections is answered") {
    Fixture f;
    f.manager.start(loadYaml(configText(1, kRegistrarsOnly)));
    f.runFor(100ms);
    f.port.flows[77] = FakePort::Flow{at(9, 77), app::FlowState::Status::Connected, 1, 40000};
    const std::size_t mark = f.port.sent.size();
    f.manager.onDatagram(options("z9hG4bKflow"), at(9, 77));
    CHECK(sendsTo(f, mark, 9) == 1);
    CHECK(f.manager.requestCounters().droppedStranger == 0);
}

TEST_CASE("answer_from any (the default) answers strangers, paced by requests.max_rate") {
    Fixture f;
    f.manager.start(loadYaml(configText(1, "max_rate: 1000\nstart_spread: 0s\nrequests: { max_rate: 50 }\n")));
    f.runFor(100ms);
    f.answerAll();
    std::size_t mark = f.port.sent.size();
    // A burst of 200 in one instant: a tenth of a second's worth (5) is answered.
    for (int i = 0; i < 200; ++i) f.manager.onDatagram(options("z9hG4bKa" + std::to_string(i)), at(9));
    CHECK(sendsTo(f, mark, 9) == 5);
    CHECK(f.manager.requestCounters().droppedRate == 195);
    // Spread over two seconds, 20 a tick of 100 ms: about 50 a second get through.
    mark = f.port.sent.size();
    for (int tick = 0; tick < 20; ++tick) {
        f.clock.advance(100ms);
        for (int i = 0; i < 20; ++i) f.manager.onDatagram(options("z9hG4bKb" + std::to_string(tick * 100 + i)), at(9));
    }
    const std::size_t answered = sendsTo(f, mark, 9);
    CHECK(answered >= 95);
    CHECK(answered <= 105);
    CHECK(f.manager.counts()[reg::State::Registered] == 1);
}

TEST_CASE("a reload switches the request policy") {
    Fixture f;
    f.manager.start(loadYaml(configText(1)));
    f.runFor(100ms);
    std::size_t mark = f.port.sent.size();
    f.manager.onDatagram(options("z9hG4bKbefore"), at(9));
    CHECK(sendsTo(f, mark, 9) == 1);
    f.manager.reload(loadYaml(configText(1, kRegistrarsOnly)));
    mark = f.port.sent.size();
    f.manager.onDatagram(options("z9hG4bKafter"), at(9));
    CHECK(sendsTo(f, mark, 9) == 0);
    CHECK(f.manager.requestCounters().droppedStranger == 1);
}

TEST_CASE("answer_from any: the registrar is never paced, strangers keep to their share") {
    Fixture f;
    f.manager.start(loadYaml(configText(1, "max_rate: 1000\nstart_spread: 0s\nrequests: { max_rate: 100000 }\n")));
    f.runFor(100ms);
    f.answerAll();
    std::size_t mark = f.port.sent.size();
    for (int i = 0; i < 300; ++i) f.manager.onDatagram(options("z9hG4bKr" + std::to_string(i)), at(1));
    CHECK(sendsTo(f, mark, 1) == 300);
    CHECK(f.manager.requestCounters().droppedRate == 0);
    // Strangers fill their share of the table and no more...
    for (std::size_t i = 0; i < app::kStrangerTransactionShare; ++i) {
        f.clock.advance(1ms);
        f.manager.onDatagram(options("z9hG4bKs" + std::to_string(i)), at(9));
    }
    CHECK(f.manager.requestCounters().droppedBusy == 300);  // the registrar's 300 count against the share
    mark = f.port.sent.size();
    f.manager.onDatagram(options("z9hG4bKlate"), at(9));
    CHECK(sendsTo(f, mark, 9) == 0);
    CHECK(f.manager.requestCounters().droppedBusy == 301);
    // ...while the registrar's probe is still answered.
    f.manager.onDatagram(options("z9hG4bKstill"), at(1));
    CHECK(sendsTo(f, mark, 1) == 1);
}
