#include "net/stream_transport.h"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "loop_fixture.h"
#include "stream_test_server.h"

using sipreg::Duration;
using sipreg::net::SocketAddress;
using sipreg::net::StreamSettings;
using sipreg::net::StreamTarget;
using sipreg::net::StreamTransport;
using sipreg::net::testing::LoopFixture;
using sipreg::net::testing::StreamTestServer;
using sipreg::txn::TransportKind;
using Kind = StreamTransport::FlowEvent::Kind;

namespace {

std::string sipMessage(const std::string& callId, const std::string& body = "") {
    return "SIP/2.0 200 OK\r\nCall-ID: " + callId + "\r\nCSeq: 1 REGISTER\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\n\r\n" + body;
}

struct Delivered {
    uint64_t flow;
    std::string message;
    SocketAddress from;
};

// A transport that records every message and flow event, and whether an event arrived
// while the test was inside one of its calls.
struct Client {
    Client(uv_loop_t* loop, StreamSettings settings)
        : transport(
              loop, settings,
              [this](uint64_t flow, std::string_view message, const SocketAddress& from) {
                  messages.push_back({flow, std::string(message), from});
              },
              [this](const StreamTransport::FlowEvent& e) {
                  if (insideCall) reentered = true;
                  events.push_back(e);
              }) {}

    uint64_t open(const StreamTarget& target) {
        insideCall = true;
        auto flow = transport.open(target);
        insideCall = false;
        REQUIRE_MESSAGE(flow.ok(), (flow.ok() ? std::string() : flow.error().message));
        return *flow;
    }
    sipreg::Result<void> send(uint64_t flow, std::string_view bytes) {
        insideCall = true;
        auto r = transport.send(flow, bytes);
        insideCall = false;
        return r;
    }
    std::size_t count(Kind kind, uint64_t flow) const {
        std::size_t n = 0;
        for (const auto& e : events) n += (e.kind == kind && e.flow == flow) ? 1 : 0;
        return n;
    }
    const StreamTransport::FlowEvent* find(Kind kind, uint64_t flow) const {
        for (const auto& e : events) {
            if (e.kind == kind && e.flow == flow) return &e;
        }
        return nullptr;
    }

    StreamTransport transport;
    std::vector<Delivered> messages;
    std::vector<StreamTransport::FlowEvent> events;
    bool insideCall = false;
    bool reentered = false;
};

StreamSettings fastSettings() {
    StreamSettings s;
    s.connectTimeout = Duration{2000};
    s.keepaliveIdle = Duration{0};
    s.reconnectBackoffMin = Duration{100};
    s.reconnectBackoffMax = Duration{250};
    s.unusedLinger = Duration{50};
    return s;
}

StreamTarget tcpTo(const SocketAddress& remote) {
    StreamTarget t;
    t.remote = remote;
    t.kind = TransportKind::Tcp;
    return t;
}

// A loopback port with nobody listening: bound once to learn a free number, then released.
SocketAddress unusedPort(uv_loop_t* loop, const SocketAddress& family) {
    uv_tcp_t tcp;
    REQUIRE(uv_tcp_init(loop, &tcp) == 0);
    REQUIRE(uv_tcp_bind(&tcp, family.sockaddrPtr(), 0) == 0);
    sockaddr_storage bound{};
    int length = sizeof bound;
    REQUIRE(uv_tcp_getsockname(&tcp, reinterpret_cast<sockaddr*>(&bound), &length) == 0);
    uv_close(reinterpret_cast<uv_handle_t*>(&tcp), nullptr);
    uv_run(loop, UV_RUN_NOWAIT);
    auto address = SocketAddress::fromSockaddr(reinterpret_cast<const sockaddr*>(&bound));
    REQUIRE(address.ok());
    return *address;
}

// "...; next try in 180 ms" -> 180 (seconds are converted).
long nextTryMs(const std::string& message) {
    const auto at = message.find("next try in ");
    REQUIRE(at != std::string::npos);
    const char* number = message.c_str() + at + 12;
    char* end = nullptr;
    const double value = std::strtod(number, &end);
    REQUIRE(end != number);
    return std::string_view(end).starts_with(" s") ? static_cast<long>(value * 1000) : static_cast<long>(value);
}

void framingOn(const SocketAddress& loopback) {
    LoopFixture fx;
    {
        StreamTestServer server(&fx.loop, loopback);
        Client client(&fx.loop, fastSettings());
        const uint64_t flow = client.open(tcpTo(server.address()));
        REQUIRE(fx.runUntil([&] { return client.count(Kind::Connected, flow) == 1; }, "connected"));
        REQUIRE(fx.runUntil([&] { return server.accepted() == 1; }, "accepted"));

        // Two messages in one write, then one split over three writes around its header end
        // and inside its body, with a keep-alive pong between.
        const std::string a = sipMessage("a", "body-a");
        const std::string b = sipMessage("b");
        const std::string c = sipMessage("c", "0123456789");
        server.send(0, a + b);
        REQUIRE(fx.runUntil([&] { return client.messages.size() == 2; }, "coalesced messages"));
        const auto split1 = c.find("\r\n\r\n") + 1;
        server.send(0, "\r\n" + c.substr(0, split1));
        fx.runFor(10);
        CHECK(client.messages.size() == 2);
        server.send(0, c.substr(split1, c.size() - split1 - 4));
        fx.runFor(10);
        CHECK(client.messages.size() == 2);
        server.send(0, c.substr(c.size() - 4));
        REQUIRE(fx.runUntil([&] { return client.messages.size() == 3; }, "split message"));

        CHECK(client.messages[0].message == a);
        CHECK(client.messages[1].message == b);
        CHECK(client.messages[2].message == c);
        for (const auto& m : client.messages) {
            CHECK(m.flow == flow);
            CHECK(m.from == server.address());
        }
        CHECK(client.transport.counters().messagesIn == 3);
        CHECK(client.transport.counters().pongsReceived == 1);
        CHECK(client.transport.counters().bytesIn == a.size() + b.size() + c.size() + 2);
        client.transport.release(flow);
    }
    fx.finish();
}

}  // namespace

TEST_CASE("split and coalesced messages are framed over IPv4") { framingOn(SocketAddress::loopbackV4()); }

TEST_CASE("split and coalesced messages are framed over IPv6") { framingOn(SocketAddress::loopbackV6()); }

TEST_CASE("one flow per target is shared by its callers and carries their messages in order") {
    LoopFixture fx;
    {
        StreamTestServer server(&fx.loop, SocketAddress::loopbackV4());
        StreamTestServer other(&fx.loop, SocketAddress::loopbackV6());
        Client client(&fx.loop, fastSettings());
        const uint64_t first = client.open(tcpTo(server.address()));
        const uint64_t second = client.open(tcpTo(server.address()));
        CHECK(first == second);
        const uint64_t third = client.open(tcpTo(other.address()));
        CHECK(third != first);
        CHECK(client.transport.openFlows() == 2);

        // Queued while connecting, then sent in order on the one connection.
        const std::string r1 = sipMessage("line-1");
        const std::string r2 = sipMessage("line-2", "x");
        REQUIRE(client.send(first, r1).ok());
        REQUIRE(client.send(second, r2).ok());
        REQUIRE(fx.runUntil([&] { return server.accepted() == 1 && server.peer(0).received.size() == r1.size() + r2.size(); },
                            "both requests at the server"));
        CHECK(server.peer(0).received == r1 + r2);
        REQUIRE(fx.runUntil([&] { return other.accepted() == 1; }, "other accepted"));
        fx.runFor(20);
        CHECK(server.accepted() == 1);
        CHECK(client.transport.counters().connectAttempts == 2);
        CHECK(client.transport.counters().connects == 2);

        // Both callers' answers come back on the flow.
        server.send(0, sipMessage("line-2", "x") + sipMessage("line-1"));
        REQUIRE(fx.runUntil([&] { return client.messages.size() == 2; }, "answers"));
        CHECK(client.messages[0].flow == first);
        CHECK(client.messages[1].flow == first);
        CHECK(client.messages[0].message.find("line-2") != std::string::npos);
        CHECK_FALSE(client.reentered);
        client.transport.closeAll();
    }
    fx.finish();
}

TEST_CASE("the Connected event and info() report the connection's local address") {
    LoopFixture fx;
    {
        StreamTestServer server(&fx.loop, SocketAddress::loopbackV6());
        Client client(&fx.loop, fastSettings());
        const uint64_t flow = client.open(tcpTo(server.address()));
        auto before = client.transport.info(flow);
        REQUIRE(before.has_value());
        CHECK_FALSE(before->connected);
        REQUIRE(fx.runUntil([&] { return client.count(Kind::Connected, flow) == 1 && server.accepted() == 1; },
                            "connected"));
        const auto* connected = client.find(Kind::Connected, flow);
        CHECK(connected->local == server.peer(0).remote);
        CHECK(connected->local.ip() == "::1");
        CHECK(connected->remote == server.address());
        auto after = client.transport.info(flow);
        REQUIRE(after.has_value());
        CHECK(after->connected);
        CHECK(after->local == connected->local);
        CHECK(after->remote == server.address());
        CHECK(after->kind == TransportKind::Tcp);
        client.transport.release(flow);
    }
    fx.finish();
}

TEST_CASE("a refused connect closes the flow once and backs the target off, doubling to the maximum") {
    LoopFixture fx;
    {
        const SocketAddress dead = unusedPort(&fx.loop, SocketAddress::loopbackV4());
        Client client(&fx.loop, fastSettings());  // backoff 100 ms doubling to 250 ms

        const uint64_t flow = client.open(tcpTo(dead));
        CHECK(client.events.empty());
        REQUIRE(fx.runUntil([&] { return client.count(Kind::Closed, flow) == 1; }, "closed"));
        const auto* closed = client.find(Kind::Closed, flow);
        CHECK_FALSE(closed->wasConnected);
        CHECK(closed->reason.find("connection refused") != std::string::npos);
        CHECK(closed->reason.find(dead.toString()) != std::string::npos);
        CHECK_FALSE(client.transport.info(flow).has_value());
        CHECK_FALSE(client.send(flow, "x").ok());

        // Every caller is turned away during the wait, with a message saying why.
        auto refused = client.transport.open(tcpTo(dead));
        REQUIRE_FALSE(refused.ok());
        const std::string& text = refused.error().message;
        CHECK(text.find("connect to " + dead.toString() + " failed") != std::string::npos);
        CHECK(text.find("(connection refused)") != std::string::npos);
        const long first = nextTryMs(text);
        CHECK(first <= 100);
        CHECK(first > 50);
        CHECK(client.transport.counters().connectsRefusedByBackoff == 1);

        // After the wait a new attempt runs; its failure doubles the wait.
        fx.runFor(110);
        const uint64_t retry = client.open(tcpTo(dead));
        CHECK(retry != flow);
        REQUIRE(fx.runUntil([&] { return client.count(Kind::Closed, retry) == 1; }, "retry closed"));
        auto again = client.transport.open(tcpTo(dead));
        REQUIRE_FALSE(again.ok());
        const long second = nextTryMs(again.error().message);
        CHECK(second <= 200);
        CHECK(second > 150);

        fx.runFor(210);
        const uint64_t third = client.open(tcpTo(dead));
        REQUIRE(fx.runUntil([&] { return client.count(Kind::Closed, third) == 1; }, "third closed"));
        auto capped = client.transport.open(tcpTo(dead));
        REQUIRE_FALSE(capped.ok());
        const long cappedWait = nextTryMs(capped.error().message);
        CHECK(cappedWait <= 250);
        CHECK(cappedWait > 200);

        // Another target is not affected.
        StreamTestServer live(&fx.loop, SocketAddress::loopbackV4());
        const uint64_t good = client.open(tcpTo(live.address()));
        REQUIRE(fx.runUntil([&] { return client.count(Kind::Connected, good) == 1; }, "other target"));

        CHECK(client.transport.counters().connectFailures == 3);
        CHECK(client.transport.counters().closed == 3);
        CHECK(client.count(Kind::Closed, flow) == 1);
        CHECK_FALSE(client.reentered);
        client.transport.release(good);
        client.transport.closeAll();
        fx.runFor(1);
    }
    fx.finish();
}

TEST_CASE("a successful connect resets the target's backoff") {
    LoopFixture fx;
    {
        const SocketAddress port = unusedPort(&fx.loop, SocketAddress::loopbackV4());
        StreamSettings settings = fastSettings();
        settings.reconnectBackoffMin = Duration{100};
        settings.reconnectBackoffMax = Duration{1000};
        Client client(&fx.loop, settings);

        for (int i = 0; i < 2; ++i) {  // two failures: the next wait would be 400 ms
            const uint64_t flow = client.open(tcpTo(port));
            REQUIRE(fx.runUntil([&] { return client.count(Kind::Closed, flow) == 1; }, "refused"));
            fx.runFor(i == 0 ? 110 : 210);
        }
        {
            StreamTestServer server(&fx.loop, port);
            const uint64_t flow = client.open(tcpTo(port));
            REQUIRE(fx.runUntil([&] { return client.count(Kind::Connected, flow) == 1; }, "connected"));
            REQUIRE(fx.runUntil([&] { return server.accepted() == 1; }, "accepted"));
            server.stopListening();
            server.closePeer(0);
            REQUIRE(fx.runUntil([&] { return client.count(Kind::Closed, flow) == 1; }, "peer closed"));
            CHECK(client.find(Kind::Closed, flow)->wasConnected);
        }
        // A closed connected flow is not a connect failure: the next attempt runs at once,
        // and its failure starts again from the minimum.
        const uint64_t flow = client.open(tcpTo(port));
        REQUIRE(fx.runUntil([&] { return client.count(Kind::Closed, flow) == 1; }, "refused again"));
        auto refused = client.transport.open(tcpTo(port));
        REQUIRE_FALSE(refused.ok());
        CHECK(nextTryMs(refused.error().message) <= 100);
    }
    fx.finish();
}

TEST_CASE("a connect that gets no answer times out") {
    LoopFixture fx;
    // A listener that never accepts, with its backlog filled: further SYNs are dropped.
    const int listener = socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(listener >= 0);
    const SocketAddress any = SocketAddress::loopbackV4();
    REQUIRE(bind(listener, any.sockaddrPtr(), any.sockaddrLength()) == 0);
    REQUIRE(listen(listener, 0) == 0);
    sockaddr_storage bound{};
    socklen_t length = sizeof bound;
    REQUIRE(getsockname(listener, reinterpret_cast<sockaddr*>(&bound), &length) == 0);
    const SocketAddress target = *SocketAddress::fromSockaddr(reinterpret_cast<const sockaddr*>(&bound));
    std::vector<int> fillers;
    for (int i = 0; i < 4; ++i) {
        const int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        REQUIRE(s >= 0);
        (void)connect(s, target.sockaddrPtr(), target.sockaddrLength());
        fillers.push_back(s);
    }
    {
        StreamSettings settings = fastSettings();
        settings.connectTimeout = Duration{150};
        Client client(&fx.loop, settings);
        const uint64_t flow = client.open(tcpTo(target));
        REQUIRE(client.send(flow, sipMessage("queued")).ok());
        REQUIRE(fx.runUntil([&] { return client.count(Kind::Closed, flow) == 1; }, "timeout"));
        const auto* closed = client.find(Kind::Closed, flow);
        CHECK_FALSE(closed->wasConnected);
        CHECK(closed->reason == "connect to " + target.toString() + " timed out after 150 ms");
        auto refused = client.transport.open(tcpTo(target));
        REQUIRE_FALSE(refused.ok());
        CHECK(refused.error().message.find("(timed out)") != std::string::npos);
        CHECK(client.transport.counters().connectFailures == 1);
    }
    for (int s : fillers) ::close(s);
    ::close(listener);
    fx.finish();
}

TEST_CASE("a peer closing a connected flow gives one Closed event; the next open connects again") {
    LoopFixture fx;
    {
        StreamTestServer server(&fx.loop, SocketAddress::loopbackV4());
        Client client(&fx.loop, fastSettings());
        const uint64_t flow = client.open(tcpTo(server.address()));
        REQUIRE(fx.runUntil([&] { return server.accepted() == 1 && client.count(Kind::Connected, flow) == 1; },
                            "connected"));
        const SocketAddress local = client.find(Kind::Connected, flow)->local;
        server.closePeer(0);
        REQUIRE(fx.runUntil([&] { return client.count(Kind::Closed, flow) == 1; }, "closed"));
        const auto* closed = client.find(Kind::Closed, flow);
        CHECK(closed->wasConnected);
        CHECK(closed->local == local);
        CHECK(closed->reason.find("closed by the peer") != std::string::npos);
        // Releasing, acquiring or closing everything afterwards adds no second event.
        client.transport.release(flow);
        client.transport.acquire(flow);
        client.transport.closeAll();
        fx.runFor(20);
        CHECK(client.count(Kind::Closed, flow) == 1);

        const uint64_t next = client.open(tcpTo(server.address()));
        CHECK(next != flow);
        REQUIRE(fx.runUntil([&] { return client.count(Kind::Connected, next) == 1; }, "reconnected"));
        CHECK(server.accepted() == 2);
        CHECK(client.transport.counters().connectFailures == 0);
        client.transport.release(next);
    }
    fx.finish();
}

TEST_CASE("an incoming keep-alive ping is answered with a pong") {
    LoopFixture fx;
    {
        StreamTestServer server(&fx.loop, SocketAddress::loopbackV4());
        Client client(&fx.loop, fastSettings());
        const uint64_t flow = client.open(tcpTo(server.address()));
        REQUIRE(fx.runUntil([&] { return server.accepted() == 1 && client.count(Kind::Connected, flow) == 1; },
                            "connected"));
        server.send(0, "\r\n\r\n");
        REQUIRE(fx.runUntil([&] { return server.peer(0).received == "\r\n"; }, "pong"));
        CHECK(client.transport.counters().pingsAnswered == 1);
        CHECK(client.count(Kind::Closed, flow) == 0);
        client.transport.release(flow);
    }
    fx.finish();
}

TEST_CASE("keep-alive pings on an idle flow: answered ones keep it, a missing pong closes it") {
    LoopFixture fx;
    {
        StreamTestServer server(&fx.loop, SocketAddress::loopbackV4());
        bool answer = true;
        server.setDataHook([&](StreamTestServer::Peer& peer, std::string_view bytes) {
            peer.received.append(bytes);
            if (answer && bytes == "\r\n\r\n") server.send(peer, "\r\n");
        });
        StreamSettings settings = fastSettings();
        settings.keepaliveIdle = Duration{60};
        settings.pongTimeout = Duration{80};
        Client client(&fx.loop, settings);
        const uint64_t flow = client.open(tcpTo(server.address()));
        REQUIRE(fx.runUntil([&] { return client.transport.counters().pongsReceived >= 3; }, "three pongs"));
        CHECK(server.peer(0).received.starts_with("\r\n\r\n\r\n\r\n\r\n\r\n"));
        CHECK(client.count(Kind::Closed, flow) == 0);
        CHECK(client.transport.info(flow)->connected);

        answer = false;
        const auto pings = client.transport.counters().pingsSent;
        REQUIRE(fx.runUntil([&] { return client.count(Kind::Closed, flow) == 1; }, "missing pong"));
        CHECK(client.transport.counters().pingsSent == pings + 1);
        CHECK(client.find(Kind::Closed, flow)->reason.find("no keep-alive pong") != std::string::npos);
        CHECK(client.find(Kind::Closed, flow)->wasConnected);
        CHECK(client.transport.counters().keepaliveFailures == 1);
        REQUIRE(fx.runUntil([&] { return server.peer(0).eof; }, "server sees the close"));
    }
    fx.finish();
}

TEST_CASE("traffic from the peer postpones the keep-alive ping") {
    LoopFixture fx;
    {
        StreamTestServer server(&fx.loop, SocketAddress::loopbackV4());
        StreamSettings settings = fastSettings();
        settings.keepaliveIdle = Duration{100};
        Client client(&fx.loop, settings);
        const uint64_t flow = client.open(tcpTo(server.address()));
        REQUIRE(fx.runUntil([&] { return server.accepted() == 1 && client.count(Kind::Connected, flow) == 1; },
                            "connected"));
        for (int i = 0; i < 5; ++i) {
            fx.runFor(40);
            server.send(0, sipMessage("keep-busy-" + std::to_string(i)));
        }
        CHECK(client.transport.counters().pingsSent == 0);
        REQUIRE(fx.runUntil([&] { return client.transport.counters().pingsSent == 1; }, "ping when idle"));
        client.transport.release(flow);
    }
    fx.finish();
}

TEST_CASE("a message trickled in too slowly closes the flow; a slow but complete one does not") {
    LoopFixture fx;
    {
        StreamTestServer server(&fx.loop, SocketAddress::loopbackV4());
        StreamSettings settings = fastSettings();
        settings.keepaliveIdle = Duration{1000};
        settings.stalledMessageTimeout = Duration{150};
        Client client(&fx.loop, settings);
        const uint64_t flow = client.open(tcpTo(server.address()));
        REQUIRE(fx.runUntil([&] { return server.accepted() == 1 && client.count(Kind::Connected, flow) == 1; },
                            "connected"));
        // In two halves 50 ms apart: well within the limit.
        const std::string whole = sipMessage("in-halves");
        server.send(0, whole.substr(0, 40));
        fx.runFor(50);
        server.send(0, whole.substr(40));
        REQUIRE(fx.runUntil([&] { return client.messages.size() == 1; }, "the slow message"));
        // A byte every 40 ms: the bytes keep coming, the message never completes in time.
        const std::string stalled = sipMessage("trickled");
        for (std::size_t i = 0; i < 8 && client.count(Kind::Closed, flow) == 0; ++i) {
            server.send(0, stalled.substr(i, 1));
            fx.runFor(40);
        }
        REQUIRE(fx.runUntil([&] { return client.count(Kind::Closed, flow) == 1; }, "stalled message"));
        const std::string reason = client.find(Kind::Closed, flow)->reason;
        CHECK(reason.find("timed out: a message began") != std::string::npos);
        CHECK(reason.find("still incomplete") != std::string::npos);
        CHECK(client.transport.counters().stalledMessages == 1);
        CHECK(client.messages.size() == 1);
    }
    fx.finish();
}

TEST_CASE("queued bytes are bounded per flow") {
    LoopFixture fx;
    {
        StreamTestServer server(&fx.loop, SocketAddress::loopbackV4());
        StreamSettings settings = fastSettings();
        settings.maxQueuedBytes = 1000;
        Client client(&fx.loop, settings);
        const uint64_t flow = client.open(tcpTo(server.address()));
        const std::string big(800, 'a');
        REQUIRE(client.send(flow, big).ok());
        auto over = client.send(flow, std::string(201, 'b'));
        REQUIRE_FALSE(over.ok());
        CHECK(over.error().message.find("limit of 1000") != std::string::npos);
        REQUIRE(client.send(flow, std::string(200, 'c')).ok());
        CHECK(client.transport.counters().sendsOverLimit == 1);
        REQUIRE(fx.runUntil([&] { return server.accepted() == 1 && server.peer(0).received.size() == 1000; },
                            "queued bytes delivered"));
        CHECK(server.peer(0).received == big + std::string(200, 'c'));
        // The refusal did not close the flow, and the queue drained.
        CHECK(client.transport.info(flow)->connected);
        REQUIRE(client.send(flow, std::string(1000, 'd')).ok());
        CHECK(client.count(Kind::Closed, flow) == 0);
        client.transport.release(flow);
    }
    fx.finish();
}

TEST_CASE("a write error closes the flow; Closed comes later, from the loop") {
    LoopFixture fx;
    {
        StreamTestServer server(&fx.loop, SocketAddress::loopbackV4());
        Client client(&fx.loop, fastSettings());
        const uint64_t flow = client.open(tcpTo(server.address()));
        REQUIRE(fx.runUntil([&] { return server.accepted() == 1 && client.count(Kind::Connected, flow) == 1; },
                            "connected"));
        server.resetPeer(0);
        // The reset is already in the kernel; the loop has not read it yet.
        auto sent = client.send(flow, sipMessage("after-reset"));
        CHECK_FALSE(sent.ok());
        CHECK(client.events.size() == 1);  // only Connected: Closed is not delivered inside send()
        CHECK_FALSE(client.transport.info(flow).has_value());
        REQUIRE(fx.runUntil([&] { return client.count(Kind::Closed, flow) == 1; }, "closed"));
        CHECK(client.find(Kind::Closed, flow)->wasConnected);
        CHECK(client.find(Kind::Closed, flow)->reason.find("write to " + server.address().toString()) !=
              std::string::npos);
        CHECK(client.transport.counters().writeErrors == 1);
        CHECK_FALSE(client.reentered);
        fx.runFor(10);
        CHECK(client.count(Kind::Closed, flow) == 1);
    }
    fx.finish();
}

TEST_CASE("bad framing from the peer closes the flow") {
    LoopFixture fx;
    {
        StreamTestServer server(&fx.loop, SocketAddress::loopbackV4());
        Client client(&fx.loop, fastSettings());
        const uint64_t flow = client.open(tcpTo(server.address()));
        REQUIRE(fx.runUntil([&] { return server.accepted() == 1 && client.count(Kind::Connected, flow) == 1; },
                            "connected"));
        server.send(0, sipMessage("good"));
        REQUIRE(fx.runUntil([&] { return client.messages.size() == 1; }, "good message"));
        server.send(0, "SIP/2.0 200 OK\r\nCall-ID: x\r\n\r\n");  // no Content-Length
        REQUIRE(fx.runUntil([&] { return client.count(Kind::Closed, flow) == 1; }, "closed"));
        CHECK(client.messages.size() == 1);
        CHECK(client.find(Kind::Closed, flow)->reason.find("framing error") != std::string::npos);
        CHECK(client.transport.counters().framingErrors == 1);
        REQUIRE(fx.runUntil([&] { return server.peer(0).eof; }, "server sees the close"));
    }
    fx.finish();
}

TEST_CASE("a flow nobody holds closes after the linger; acquire keeps it") {
    LoopFixture fx;
    {
        StreamTestServer server(&fx.loop, SocketAddress::loopbackV4());
        Client client(&fx.loop, fastSettings());  // linger 50 ms
        const uint64_t flow = client.open(tcpTo(server.address()));
        CHECK(client.open(tcpTo(server.address())) == flow);  // second user
        REQUIRE(fx.runUntil([&] { return client.count(Kind::Connected, flow) == 1; }, "connected"));
        client.transport.release(flow);
        fx.runFor(100);
        CHECK(client.count(Kind::Closed, flow) == 0);  // one user left
        client.transport.release(flow);
        fx.runFor(20);
        client.transport.acquire(flow);  // back before the linger ran out
        fx.runFor(100);
        CHECK(client.count(Kind::Closed, flow) == 0);
        // open() of a flow in its linger also keeps it.
        client.transport.release(flow);
        fx.runFor(20);
        CHECK(client.open(tcpTo(server.address())) == flow);
        fx.runFor(100);
        CHECK(client.count(Kind::Closed, flow) == 0);

        client.transport.release(flow);
        REQUIRE(fx.runUntil([&] { return client.count(Kind::Closed, flow) == 1; }, "linger"));
        CHECK(client.find(Kind::Closed, flow)->wasConnected);
        CHECK(client.find(Kind::Closed, flow)->reason.find("unused") != std::string::npos);
        CHECK(server.accepted() == 1);
    }
    fx.finish();
}

TEST_CASE("closeAll closes every flow once, with the events delivered after the call") {
    LoopFixture fx;
    {
        StreamTestServer v4(&fx.loop, SocketAddress::loopbackV4());
        StreamTestServer v6(&fx.loop, SocketAddress::loopbackV6());
        Client client(&fx.loop, fastSettings());
        const uint64_t a = client.open(tcpTo(v4.address()));
        const uint64_t b = client.open(tcpTo(v6.address()));
        REQUIRE(fx.runUntil([&] { return client.count(Kind::Connected, a) == 1 && client.count(Kind::Connected, b) == 1; },
                            "both connected"));
        const uint64_t c = client.open(tcpTo(unusedPort(&fx.loop, SocketAddress::loopbackV4())));  // still connecting
        const auto before = client.events.size();
        client.transport.closeAll();
        CHECK(client.events.size() == before);
        CHECK(client.transport.openFlows() == 0);
        REQUIRE(fx.runUntil([&] { return client.count(Kind::Closed, a) == 1 && client.count(Kind::Closed, b) == 1 &&
                                         client.count(Kind::Closed, c) == 1; },
                            "all closed"));
        CHECK(client.find(Kind::Closed, a)->wasConnected);
        CHECK_FALSE(client.find(Kind::Closed, c)->wasConnected);
        fx.runFor(20);
        CHECK(client.events.size() == before + 3);
    }
    fx.finish();
}

TEST_CASE("the transport may be destroyed from a Closed handler and with flows open") {
    LoopFixture fx;
    {
        StreamTestServer server(&fx.loop, SocketAddress::loopbackV4());
        std::unique_ptr<StreamTransport> transport;
        transport = std::make_unique<StreamTransport>(
            &fx.loop, fastSettings(), nullptr, [&](const StreamTransport::FlowEvent& e) {
                if (e.kind == Kind::Closed) transport.reset();
            });
        auto first = transport->open(tcpTo(server.address()));
        auto second = transport->open(tcpTo(unusedPort(&fx.loop, SocketAddress::loopbackV6())));
        REQUIRE(first.ok());
        REQUIRE(second.ok());
        REQUIRE(fx.runUntil([&] { return transport == nullptr; }, "destroyed by its handler"));

        auto kept = std::make_unique<StreamTransport>(&fx.loop, fastSettings(), nullptr, nullptr);
        REQUIRE(kept->open(tcpTo(server.address())).ok());
        REQUIRE(kept->send(1, sipMessage("x")).ok());
        fx.runFor(5);
        kept.reset();  // open flow, maybe pending writes: handles close without callbacks
    }
    fx.finish();
}

TEST_CASE("open() rejects a TLS target without a context and unknown flows are errors") {
    LoopFixture fx;
    {
        Client client(&fx.loop, fastSettings());
        StreamTarget tls = tcpTo(SocketAddress::loopbackV4(5061));
        tls.kind = TransportKind::Tls;
        auto flow = client.transport.open(tls);
        REQUIRE_FALSE(flow.ok());
        CHECK(flow.error().message.find("TLS context") != std::string::npos);
        CHECK_FALSE(client.transport.send(42, "x").ok());
        CHECK_FALSE(client.transport.info(42).has_value());
        client.transport.release(42);
        client.transport.acquire(42);
        fx.runFor(5);
        CHECK(client.events.empty());
    }
    fx.finish();
}
