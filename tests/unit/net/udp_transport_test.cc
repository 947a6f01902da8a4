#include "net/udp_transport.h"

#include <doctest/doctest.h>

#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "loop_fixture.h"

using sipreg::net::AddressFamily;
using sipreg::net::SocketAddress;
using sipreg::net::TransportError;
using sipreg::net::UdpTransport;
using sipreg::net::testing::LoopFixture;

namespace {

struct Received {
    std::string bytes;
    SocketAddress from;
    SocketAddress local;
};

// A transport that records what it receives and every error it is told about.
struct Peer {
    explicit Peer(uv_loop_t* loop)
        : transport(
              loop,
              [this](std::string_view bytes, const SocketAddress& from, const SocketAddress& local) {
                  received.push_back({std::string(bytes), from, local});
              },
              [this](const TransportError& e) { errors.push_back(e); }) {}

    SocketAddress bind(const SocketAddress& at) {
        auto bound = transport.bind(at);
        REQUIRE_MESSAGE(bound.ok(), (bound.ok() ? std::string() : bound.error().message));
        return *bound;
    }

    UdpTransport transport;
    std::vector<Received> received;
    std::vector<TransportError> errors;
};

// `ip -6 addr show lo` must list ::1 on these machines; an IPv6-less host fails here
// instead of silently skipping the IPv6 cases.
bool loopbackHasIpv6() {
    FILE* p = popen("ip -6 addr show lo 2>/dev/null", "r");
    if (p == nullptr) return false;
    std::string out;
    char buf[256];
    while (fgets(buf, sizeof buf, p) != nullptr) out += buf;
    pclose(p);
    return out.find("::1/128") != std::string::npos;
}

void exchangeOn(const SocketAddress& loopback) {
    LoopFixture fx;
    {
        Peer a(&fx.loop);
        Peer b(&fx.loop);
        const auto addrA = a.bind(loopback);
        const auto addrB = b.bind(loopback);
        CHECK(addrA.port() != 0);
        CHECK(addrB.port() != 0);
        CHECK(addrA.port() != addrB.port());
        CHECK(a.transport.localAddress(loopback.family()) == addrA);

        const std::string request = "REGISTER sip:example.test SIP/2.0\r\n\r\n";
        REQUIRE(a.transport.send(addrB, request).ok());
        REQUIRE(fx.runUntil([&] { return b.received.size() == 1; }, "datagram at b"));
        CHECK(b.received[0].bytes == request);
        CHECK(b.received[0].from == addrA);
        CHECK(b.received[0].local == addrB);

        REQUIRE(b.transport.send(b.received[0].from, "SIP/2.0 200 OK\r\n\r\n").ok());
        REQUIRE(fx.runUntil([&] { return a.received.size() == 1; }, "datagram at a"));
        CHECK(a.received[0].bytes == "SIP/2.0 200 OK\r\n\r\n");

        CHECK(a.transport.counters().datagramsOut == 1);
        CHECK(a.transport.counters().datagramsIn == 1);
        CHECK(a.transport.counters().bytesOut == request.size());
        CHECK(a.transport.counters().sendsQueued == 0);  // the try_send path
        CHECK(b.transport.counters().datagramsIn == 1);
        CHECK(b.transport.counters().bytesIn == request.size());
        CHECK(a.errors.empty());
        CHECK(b.errors.empty());
    }
    fx.finish();
}

}  // namespace

TEST_CASE("UDP datagrams go both ways over IPv4 loopback") { exchangeOn(SocketAddress::loopbackV4()); }

TEST_CASE("UDP datagrams go both ways over IPv6 loopback") {
    REQUIRE_MESSAGE(loopbackHasIpv6(), "::1 is not configured on lo; the IPv6 transport cannot be tested");
    exchangeOn(SocketAddress::loopbackV6());
}

TEST_CASE("one transport holds one socket per family and picks it by destination") {
    REQUIRE(loopbackHasIpv6());
    LoopFixture fx;
    {
        Peer lines(&fx.loop);
        Peer registrar4(&fx.loop);
        Peer registrar6(&fx.loop);
        const auto local4 = lines.bind(SocketAddress::loopbackV4());
        const auto local6 = lines.bind(SocketAddress::loopbackV6());
        CHECK(local4.family() == AddressFamily::IPv4);
        CHECK(local6.family() == AddressFamily::IPv6);
        const auto r4 = registrar4.bind(SocketAddress::loopbackV4());
        const auto r6 = registrar6.bind(SocketAddress::loopbackV6());

        auto again = lines.transport.bind(SocketAddress::loopbackV4());
        REQUIRE_FALSE(again.ok());
        CHECK(again.error().message.find("already bound") != std::string::npos);

        REQUIRE(lines.transport.send(r4, "to v4").ok());
        REQUIRE(lines.transport.send(r6, "to v6").ok());
        REQUIRE(fx.runUntil([&] { return registrar4.received.size() == 1 && registrar6.received.size() == 1; }));
        CHECK(registrar4.received[0].from == local4);
        CHECK(registrar6.received[0].from == local6);
        CHECK(registrar6.received[0].bytes == "to v6");
    }
    fx.finish();
}

TEST_CASE("sending without a socket of the destination's family is an error value") {
    LoopFixture fx;
    {
        Peer a(&fx.loop);
        a.bind(SocketAddress::loopbackV4());
        auto r = a.transport.send(SocketAddress::loopbackV6(5060), "x");
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().message == "send to [::1]:5060: no IPv6 UDP socket is bound");
        CHECK(a.transport.counters().sendErrors == 1);
        CHECK(a.transport.counters().datagramsOut == 0);
    }
    fx.finish();
}

TEST_CASE("a send the kernel refuses at once is returned as an error value") {
    LoopFixture fx;
    {
        Peer a(&fx.loop);
        a.bind(SocketAddress::loopbackV4());
        // Port 0 is not a valid destination: sendto() fails with EINVAL.
        auto r = a.transport.send(SocketAddress::loopbackV4(0), "x");
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().message.find("send to 127.0.0.1:0") == 0);
        CHECK(r.error().message.find("EINVAL") != std::string::npos);
        CHECK(a.transport.counters().sendErrors == 1);
    }
    fx.finish();
}

TEST_CASE("a queued send that fails reaches the error handler with its destination") {
    LoopFixture fx;
    {
        Peer a(&fx.loop);
        a.bind(SocketAddress::loopbackV4());
        REQUIRE(a.transport.sendQueued(SocketAddress::loopbackV4(0), "x").ok());
        CHECK(a.transport.pendingSends() == 1);
        REQUIRE(fx.runUntil([&] { return !a.errors.empty(); }, "send error"));
        CHECK(a.errors[0].kind == TransportError::Kind::Send);
        CHECK(a.errors[0].code == UV_EINVAL);
        REQUIRE(a.errors[0].peer.has_value());
        CHECK(*a.errors[0].peer == SocketAddress::loopbackV4(0));
        CHECK(a.transport.counters().sendErrors == 1);
        CHECK(a.transport.pendingSends() == 0);
    }
    fx.finish();
}

TEST_CASE("try_send falls back to a queued send with an owned buffer on EAGAIN, keeping order") {
    LoopFixture fx;
    {
        Peer a(&fx.loop);
        Peer b(&fx.loop);
        a.bind(SocketAddress::loopbackV4());
        const auto addrB = b.bind(SocketAddress::loopbackV4());
        REQUIRE(a.transport.sendQueued(addrB, "one").ok());
        {
            // While "one" is queued, try_send answers EAGAIN; the fallback must copy the
            // bytes because this buffer is gone before the loop sends them.
            std::string transient = "two";
            REQUIRE(a.transport.send(addrB, transient).ok());
            transient.assign("XXX");
        }
        CHECK(a.transport.counters().sendsQueued == 2);
        CHECK(a.transport.pendingSends() == 2);
        REQUIRE(fx.runUntil([&] { return b.received.size() == 2; }, "two datagrams"));
        CHECK(b.received[0].bytes == "one");
        CHECK(b.received[1].bytes == "two");
        REQUIRE(fx.runUntil([&] { return a.transport.pendingSends() == 0; }, "send callbacks"));
        CHECK(a.transport.counters().datagramsOut == 2);
        CHECK(a.transport.counters().bytesOut == 6);
        // With the queue drained, the next send takes the direct path again.
        REQUIRE(a.transport.send(addrB, "three").ok());
        CHECK(a.transport.counters().sendsQueued == 2);
        CHECK(a.transport.counters().datagramsOut == 3);
    }
    fx.finish();
}

TEST_CASE("closing a transport with queued sends frees them without calling back into it") {
    LoopFixture fx;
    {
        Peer b(&fx.loop);
        const auto addrB = b.bind(SocketAddress::loopbackV4());
        auto a = std::make_unique<Peer>(&fx.loop);
        a->bind(SocketAddress::loopbackV4());
        for (int i = 0; i < 10; ++i) REQUIRE(a->transport.sendQueued(addrB, std::string(1000, 'q')).ok());
        a.reset();  // destroyed with requests in flight: their callbacks find no owner
    }
    fx.finish();
}

TEST_CASE("the largest IPv4 datagram arrives whole through the 64 KiB buffer") {
    LoopFixture fx;
    {
        Peer a(&fx.loop);
        Peer b(&fx.loop);
        a.bind(SocketAddress::loopbackV4());
        const auto addrB = b.bind(SocketAddress::loopbackV4());
        std::string big(65507, '\0');
        for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + i % 26);
        REQUIRE(a.transport.send(addrB, big).ok());
        REQUIRE(fx.runUntil([&] { return b.received.size() == 1; }));
        CHECK(b.received[0].bytes == big);
    }
    fx.finish();
}

TEST_CASE("an exception thrown by the receive handler is contained and receiving goes on") {
    LoopFixture fx;
    {
        int calls = 0;
        UdpTransport b(
            &fx.loop,
            [&](std::string_view, const SocketAddress&, const SocketAddress&) {
                ++calls;
                if (calls == 1) throw std::runtime_error("handler bug");
            },
            [](const TransportError&) {});
        Peer a(&fx.loop);
        a.bind(SocketAddress::loopbackV4());
        auto addrB = b.bind(SocketAddress::loopbackV4());
        REQUIRE(addrB.ok());
        REQUIRE(a.transport.send(*addrB, "first").ok());
        REQUIRE(a.transport.send(*addrB, "second").ok());
        REQUIRE(fx.runUntil([&] { return calls == 2; }, "both datagrams"));
        CHECK(b.counters().datagramsIn == 2);
    }
    fx.finish();
}

TEST_CASE("the receive handler may close its own transport") {
    LoopFixture fx;
    {
        int calls = 0;
        std::unique_ptr<UdpTransport> b;
        b = std::make_unique<UdpTransport>(
            &fx.loop,
            [&](std::string_view, const SocketAddress&, const SocketAddress&) {
                ++calls;
                b->close();
            },
            [](const TransportError&) {});
        Peer a(&fx.loop);
        a.bind(SocketAddress::loopbackV4());
        auto addrB = b->bind(SocketAddress::loopbackV4());
        REQUIRE(addrB.ok());
        for (int i = 0; i < 5; ++i) REQUIRE(a.transport.send(*addrB, "x").ok());
        REQUIRE(fx.runUntil([&] { return calls >= 1; }));
        fx.runFor(20);
        CHECK(calls == 1);
        CHECK_FALSE(b->hasSocket(AddressFamily::IPv4));
        auto r = b->send(*addrB, "after close");
        CHECK_FALSE(r.ok());
    }
    fx.finish();
}

TEST_CASE("binding an address in use is an error value naming the address") {
    LoopFixture fx;
    {
        Peer a(&fx.loop);
        const auto taken = a.bind(SocketAddress::loopbackV4());
        UdpTransport b(&fx.loop, nullptr, nullptr);
        auto r = b.bind(taken);
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().message.find("UDP socket " + taken.toString() + ": bind") == 0);
        CHECK(r.error().message.find("EADDRINUSE") != std::string::npos);
        CHECK_FALSE(b.hasSocket(AddressFamily::IPv4));
    }
    fx.finish();
}

TEST_CASE("socket buffer sizes can be set at bind") {
    LoopFixture fx;
    {
        UdpTransport t(&fx.loop, nullptr, nullptr);
        UdpTransport::BindOptions options;
        options.receiveBufferBytes = 1 << 20;
        options.sendBufferBytes = 1 << 18;
        auto r = t.bind(SocketAddress::loopbackV4(), options);
        REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
    }
    fx.finish();
}
