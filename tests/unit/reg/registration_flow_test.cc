// The machine on stream transports and behind proxies: the flow's address in Via and
// Contact, a lost connection, transport error reasons and the outbound proxy's Route.
#include <doctest/doctest.h>

#include <string>

#include "sip/typed_headers.h"
#include "support/reg_harness.h"

using namespace sipreg;
using namespace sipreg::reg;
using namespace std::chrono_literals;
using test::RegHarness;
using test::ResponseSpec;

namespace {

ResponseSpec okFor(const RegHarness& h, int granted = 600) {
    ResponseSpec s;
    s.headers = {"Contact: <" + std::string(h.machine->contactUri()) + ">;expires=" + std::to_string(granted)};
    return s;
}

std::vector<std::string> contactLines(const std::string& bytes) {
    std::vector<std::string> out;
    std::size_t at = 0;
    while ((at = bytes.find("\r\nContact: ", at)) != std::string::npos) {
        at += 2;
        out.push_back(bytes.substr(at, bytes.find("\r\n", at) - at));
    }
    return out;
}

LineSettings tcpLine() {
    LineSettings s = test::basicLine();
    s.transport = txn::TransportKind::Tcp;
    return s;
}

}  // namespace

TEST_CASE("the flow's address and transport go into Via and Contact") {
    RegHarness h(tcpLine());
    CHECK(h.machine->setFlowAddress(txn::TransportKind::Tcp, "127.0.0.1", 40001));
    h.start();
    auto m = h.lastRegisterMessage();
    auto via = sip::vias(m).value().at(0);
    CHECK(via.transport == "TCP");
    CHECK(via.host == "127.0.0.1");
    CHECK(via.port == 40001);
    auto contact = sip::contacts(m).value().at(0);
    CHECK(contact.address.uri.port == 40001);
    CHECK(contact.address.uri.param("transport").value_or("") == "tcp");
    // Nothing was registered with the placeholder: no stale contact to remove.
    CHECK(contactLines(h.lastRegister().bytes).size() == 1);
}

TEST_CASE("setting the same flow address again changes nothing") {
    RegHarness h(tcpLine());
    h.machine->setFlowAddress(txn::TransportKind::Tcp, "127.0.0.1", 40001);
    CHECK_FALSE(h.machine->setFlowAddress(txn::TransportKind::Tcp, "127.0.0.1", 40001));
}

TEST_CASE("TLS on a sip: AOR says transport=tls; Via says TLS") {
    LineSettings s = test::basicLine();
    s.transport = txn::TransportKind::Tls;
    RegHarness h(s);
    h.machine->setFlowAddress(txn::TransportKind::Tls, "::1", 40002);
    h.start();
    auto m = h.lastRegisterMessage();
    CHECK(sip::vias(m).value().at(0).transport == "TLS");
    CHECK(h.machine->contactUri() == "sip:alice@[::1]:40002;transport=tls");
}

TEST_CASE("a sips: AOR gets a sips: Contact without a transport parameter") {
    LineSettings s = test::basicLine();
    s.aor = "sips:alice@example.com";
    s.transport = txn::TransportKind::Tls;
    RegHarness h(s);
    h.machine->setFlowAddress(txn::TransportKind::Tls, "127.0.0.1", 40003);
    h.start();
    CHECK(h.machine->contactUri() == "sips:alice@127.0.0.1:40003");
    CHECK(h.lastRegisterMessage().requestUriText() == "sips:example.com");
}

TEST_CASE("a lost flow re-registers at once over the new flow and removes the old contact") {
    RegHarness h(tcpLine());
    h.machine->setFlowAddress(txn::TransportKind::Tcp, "127.0.0.1", 40001);
    h.start();
    h.respond(okFor(h));
    REQUIRE(h.state() == State::Registered);
    const std::string oldContact(h.machine->contactUri());

    CHECK(h.machine->setFlowAddress(txn::TransportKind::Tcp, "127.0.0.1", 40009));
    const std::size_t before = h.registersSent();
    h.send(Event::flowLost("connection reset by peer"));
    CHECK(h.state() == State::Registering);
    REQUIRE(h.registersSent() == before + 1);
    CHECK(h.changes.back().text.find("connection lost (connection reset by peer)") != std::string::npos);
    auto contacts = contactLines(h.lastRegister().bytes);
    REQUIRE(contacts.size() == 2);
    CHECK(contacts[0] == "Contact: <sip:alice@127.0.0.1:40009;transport=tcp>;expires=600");
    CHECK(contacts[1] == "Contact: <" + oldContact + ">;expires=0");
    h.respond(okFor(h));
    CHECK(h.state() == State::Registered);
    // Once confirmed, the old contact is not mentioned again.
    h.advance(600s);
    CHECK(contactLines(h.lastRegister().bytes).size() == 1);
}

TEST_CASE("a lost flow while waiting changes nothing: the retry timer stays in charge") {
    RegHarness h(tcpLine());
    h.start();
    h.timeoutLast();
    REQUIRE(h.state() == State::Waiting);
    const std::size_t before = h.registersSent();
    h.send(Event::flowLost("closed"));
    CHECK(h.state() == State::Waiting);
    CHECK(h.registersSent() == before);
}

TEST_CASE("a transport error's reason reaches the state text") {
    RegHarness h;
    h.start();
    h.send(Event::transportError(h.lastRegister().branch, "certificate verify failed: hostname mismatch"));
    REQUIRE(h.state() == State::Waiting);
    CHECK(h.changes.back().text.find("transport error: certificate verify failed: hostname mismatch") !=
          std::string::npos);
}

TEST_CASE("an outbound proxy is named in a Route header on every request") {
    LineSettings s = test::basicLine();
    s.route = "<sip:proxy.example.net:5070;lr>";
    s.keepalive = Seconds{30};
    s.keepaliveMode = KeepAliveMode::Options;
    RegHarness h(s);
    h.start();
    auto m = h.lastRegisterMessage();
    CHECK(m.requestUriText() == "sip:example.com");
    const std::string& bytes = h.lastRegister().bytes;
    CHECK(bytes.find("\r\nRoute: <sip:proxy.example.net:5070;lr>\r\n") != std::string::npos);
    h.respond(okFor(h));
    h.advance(31s);
    REQUIRE(h.sent.back().purpose == RequestPurpose::KeepAlive);
    CHECK(h.sent.back().bytes.find("\r\nRoute: <sip:proxy.example.net:5070;lr>\r\n") != std::string::npos);
}
