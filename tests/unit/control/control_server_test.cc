// The control server on a real loop: the client side is a plain non-blocking Unix socket
// polled between loop iterations, every wait bounded by the loop fixture's watchdog.
#include <doctest/doctest.h>

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "control/control_server.h"
#include "fake_backend.h"
#include "unit/net/loop_fixture.h"

using namespace sipreg;
using namespace sipreg::control;
using namespace sipreg::control::testing;
using nlohmann::json;
using sipreg::net::testing::LoopFixture;

namespace {

struct TempDir {
    TempDir() {
        char pattern[] = "/tmp/sipreg-ctl-XXXXXX";
        REQUIRE(::mkdtemp(pattern) != nullptr);
        path = pattern;
    }
    ~TempDir() { std::filesystem::remove_all(path); }
    std::string path;
};

sockaddr_un addressOf(const std::string& path) {
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::memcpy(a.sun_path, path.data(), path.size());
    return a;
}

// A client socket; `received` collects everything read, `closed` is set on EOF.
struct Client {
    explicit Client(const std::string& path) {
        fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        REQUIRE(fd >= 0);
        const sockaddr_un a = addressOf(path);
        REQUIRE(::connect(fd, reinterpret_cast<const sockaddr*>(&a), sizeof(a)) == 0);
    }
    ~Client() { disconnect(); }
    void disconnect() {
        if (fd >= 0) ::close(fd);
        fd = -1;
    }
    void send(const std::string& bytes) const {
        std::size_t done = 0;
        while (done < bytes.size()) {
            const ssize_t n = ::send(fd, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
            if (n < 0 && errno == EAGAIN) {
                pollfd p{fd, POLLOUT, 0};
                ::poll(&p, 1, 100);
                continue;
            }
            if (n <= 0) return;  // the server closed: the test checks what it received
            done += static_cast<std::size_t>(n);
        }
    }
    // Non-blocking read of whatever is there.
    void pump() {
        char buf[65536];
        while (fd >= 0 && !closed) {
            const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
            if (n > 0) {
                received.append(buf, static_cast<std::size_t>(n));
            } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
                closed = true;
            } else {
                return;
            }
        }
    }
    std::vector<json> lines() const {
        std::vector<json> out;
        std::size_t start = 0;
        for (std::size_t nl = received.find('\n'); nl != std::string::npos; nl = received.find('\n', start)) {
            out.push_back(json::parse(received.substr(start, nl - start)));
            start = nl + 1;
        }
        return out;
    }
    int fd = -1;
    std::string received;
    bool closed = false;
};

// Runs the loop without blocking and gives clients a moment to receive, until `done`.
bool runUntil(LoopFixture& loop, std::vector<Client*> clients, const std::function<bool()>& done) {
    for (int i = 0; i < 2000; ++i) {
        uv_run(&loop.loop, UV_RUN_NOWAIT);
        for (Client* c : clients) c->pump();
        if (done()) return true;
        std::vector<pollfd> fds;
        for (Client* c : clients) {
            if (c->fd >= 0) fds.push_back(pollfd{c->fd, POLLIN, 0});
        }
        ::poll(fds.data(), fds.size(), 2);
    }
    return false;
}

struct ServerFixture {
    ServerFixture() {
        backend.lines = {lineStatus("a", reg::State::Registered), lineStatus("b", reg::State::Waiting)};
        settings.path = dir.path + "/control.sock";
        server.setTraceActivation([this](bool on) { activations.push_back(on); });
    }
    ~ServerFixture() {
        server.close();
        loop.finish();
    }
    TempDir dir;
    LoopFixture loop;
    FakeBackend backend;
    ControlServer server{&loop.loop, backend, nullptr};
    ServerSettings settings;
    std::vector<bool> activations;
};

}  // namespace

TEST_CASE("the socket gets the configured mode, answers requests, and is removed at close") {
    ServerFixture f;
    f.settings.mode = 0660;
    REQUIRE(f.server.start(f.settings).ok());
    struct stat st {};
    REQUIRE(::lstat(f.settings.path.c_str(), &st) == 0);
    CHECK(S_ISSOCK(st.st_mode));
    CHECK((st.st_mode & 07777) == 0660);

    Client c(f.settings.path);
    c.send("{\"cmd\":\"status\"}\n{\"cmd\":\"check\"}\n");
    REQUIRE(runUntil(f.loop, {&c}, [&] { return c.lines().size() == 2; }));
    const auto replies = c.lines();
    CHECK(replies[0]["ok"] == true);
    CHECK(replies[0]["lines"].size() == 2);
    CHECK(replies[1]["summary"] == "WARNING: 1/2 registered; waiting: b");
    CHECK_FALSE(c.closed);  // a connection serves any number of requests

    f.server.close();
    CHECK_FALSE(std::filesystem::exists(f.settings.path));
    REQUIRE(runUntil(f.loop, {&c}, [&] { return c.closed; }));
}

TEST_CASE("another mode is applied as configured") {
    ServerFixture f;
    f.settings.mode = 0600;
    REQUIRE(f.server.start(f.settings).ok());
    struct stat st {};
    REQUIRE(::lstat(f.settings.path.c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0600);
}

TEST_CASE("a stale socket file is replaced; a live one or a regular file is left alone") {
    ServerFixture f;
    {
        // Bound and closed without unlinking: what a crashed daemon leaves behind.
        const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
        const sockaddr_un a = addressOf(f.settings.path);
        REQUIRE(::bind(fd, reinterpret_cast<const sockaddr*>(&a), sizeof(a)) == 0);
        ::close(fd);
    }
    REQUIRE(std::filesystem::exists(f.settings.path));
    auto started = f.server.start(f.settings);
    REQUIRE_MESSAGE(started.ok(), started.error().message);

    // A second server on the same path finds this one listening and refuses.
    FakeBackend other;
    ControlServer second(&f.loop.loop, other, nullptr);
    auto refused = second.start(f.settings);
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().message == "another process is listening on " + f.settings.path);
    second.close();
    CHECK(std::filesystem::exists(f.settings.path));  // still the first server's
    Client c(f.settings.path);
    c.send("{\"cmd\":\"status\"}\n");
    REQUIRE(runUntil(f.loop, {&c}, [&] { return c.lines().size() == 1; }));

    ServerSettings plain = f.settings;
    plain.path = f.dir.path + "/not-a-socket";
    std::ofstream(plain.path) << "keep me";
    auto notSocket = second.start(plain);
    REQUIRE_FALSE(notSocket.ok());
    CHECK(notSocket.error().message.find("is not a socket") != std::string::npos);
    CHECK(std::filesystem::file_size(plain.path) == 7);
}

TEST_CASE("a path too long for a Unix socket is an error, not a truncated socket") {
    ServerFixture f;
    f.settings.path = f.dir.path + "/" + std::string(120, 'x');
    auto r = f.server.start(f.settings);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find("too long") != std::string::npos);
}

TEST_CASE("a socket in a folder that does not exist says so") {
    ServerFixture f;
    f.settings.path = f.dir.path + "/missing/control.sock";
    auto r = f.server.start(f.settings);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message == "cannot create the control socket " + f.settings.path + ": the folder " + f.dir.path +
                                   "/missing does not exist (create it, or set control.socket)");
}

TEST_CASE("a request over the size bound gets an error and the connection is closed") {
    ServerFixture f;
    f.settings.maxRequestBytes = 1024;
    REQUIRE(f.server.start(f.settings).ok());
    Client c(f.settings.path);
    c.send(std::string(5000, ' '));
    REQUIRE(runUntil(f.loop, {&c}, [&] { return c.closed; }));
    const auto replies = c.lines();
    REQUIRE(replies.size() == 1);
    CHECK(replies[0]["ok"] == false);
    CHECK(replies[0]["error"] == "request longer than 1024 bytes; closing the connection");
    REQUIRE(runUntil(f.loop, {}, [&] { return f.server.clientCount() == 0; }));
}

TEST_CASE("a bad request gets an error and the connection stays usable") {
    ServerFixture f;
    REQUIRE(f.server.start(f.settings).ok());
    Client c(f.settings.path);
    c.send("{oops\n\n{\"cmd\":\"show\",\"line\":\"a\"}\r\n");
    REQUIRE(runUntil(f.loop, {&c}, [&] { return c.lines().size() == 2; }));
    const auto replies = c.lines();
    CHECK(replies[0]["ok"] == false);
    CHECK(replies[1]["ok"] == true);
    CHECK(replies[1]["line"]["id"] == "a");
}

TEST_CASE("many clients at once each get their own answers") {
    ServerFixture f;
    REQUIRE(f.server.start(f.settings).ok());
    std::vector<std::unique_ptr<Client>> clients;
    std::vector<Client*> raw;
    for (int i = 0; i < 20; ++i) {
        clients.push_back(std::make_unique<Client>(f.settings.path));
        raw.push_back(clients.back().get());
    }
    for (int i = 0; i < 20; ++i) {
        clients[static_cast<std::size_t>(i)]->send(i % 2 == 0 ? "{\"cmd\":\"show\",\"line\":\"a\"}\n"
                                                              : "{\"cmd\":\"show\",\"line\":\"b\"}\n");
    }
    REQUIRE(runUntil(f.loop, raw, [&] {
        for (Client* c : raw) {
            if (c->lines().size() != 1) return false;
        }
        return true;
    }));
    for (int i = 0; i < 20; ++i) {
        CHECK(clients[static_cast<std::size_t>(i)]->lines()[0]["line"]["id"] == (i % 2 == 0 ? "a" : "b"));
    }
    CHECK(f.server.clientCount() == 20);
    clients.clear();
    REQUIRE(runUntil(f.loop, {}, [&] { return f.server.clientCount() == 0; }));
}

TEST_CASE("clients beyond the limit are told so and closed") {
    ServerFixture f;
    f.settings.maxClients = 2;
    REQUIRE(f.server.start(f.settings).ok());
    Client a(f.settings.path);
    Client b(f.settings.path);
    REQUIRE(runUntil(f.loop, {&a, &b}, [&] { return f.server.clientCount() == 2; }));
    Client c(f.settings.path);
    REQUIRE(runUntil(f.loop, {&c}, [&] { return c.closed; }));
    REQUIRE(c.lines().size() == 1);
    CHECK(c.lines()[0]["error"] == "too many control clients (at most 2)");
}

TEST_CASE("a client that half-closes after its request still gets the reply") {
    ServerFixture f;
    REQUIRE(f.server.start(f.settings).ok());
    Client c(f.settings.path);
    c.send("{\"cmd\":\"status\"}\n");
    ::shutdown(c.fd, SHUT_WR);
    REQUIRE(runUntil(f.loop, {&c}, [&] { return c.closed; }));
    REQUIRE(c.lines().size() == 1);
    CHECK(c.lines()[0]["ok"] == true);
}

TEST_CASE("an idle client is closed after the idle timeout") {
    ServerFixture f;
    f.settings.idleTimeout = std::chrono::milliseconds(200);
    REQUIRE(f.server.start(f.settings).ok());
    Client c(f.settings.path);
    REQUIRE(runUntil(f.loop, {&c}, [&] { return c.closed; }));
    CHECK(c.received.empty());
}

TEST_CASE("trace streams matching messages; the listener is on only while a tracer is attached") {
    ServerFixture f;
    REQUIRE(f.server.start(f.settings).ok());
    Client one(f.settings.path);
    Client all(f.settings.path);
    one.send("{\"cmd\":\"trace\",\"line\":\"a\"}\n");
    all.send("{\"cmd\":\"trace\"}\n");
    REQUIRE(runUntil(f.loop, {&one, &all}, [&] { return one.lines().size() == 1 && all.lines().size() == 1; }));
    CHECK(one.lines()[0]["trace"] == "a");
    CHECK(all.lines()[0]["trace"].is_null());
    CHECK(f.activations == std::vector<bool>{true});
    CHECK(f.server.traceClientCount() == 2);

    app::TraceEvent forA;
    forA.lineId = "a";
    forA.outgoing = true;
    forA.peer = "UDP 127.0.0.1:5060";
    forA.bytes = "REGISTER sip:x SIP/2.0\r\n\r\n";
    app::TraceEvent forB = forA;
    forB.lineId = "b";
    forB.outgoing = false;
    forB.bytes = "SIP/2.0 200 OK\r\n\r\n";
    f.server.publishTrace(forA);
    f.server.publishTrace(forB);
    REQUIRE(runUntil(f.loop, {&one, &all}, [&] { return all.lines().size() == 3 && one.lines().size() == 2; }));
    CHECK(one.lines()[1]["line"] == "a");
    CHECK(one.lines()[1]["message"] == "REGISTER sip:x SIP/2.0\r\n\r\n");
    CHECK(all.lines()[2]["line"] == "b");
    CHECK(all.lines()[2]["direction"] == "in");

    // Input after trace is ignored, not answered.
    one.send("{\"cmd\":\"status\"}\n");
    one.disconnect();
    REQUIRE(runUntil(f.loop, {&all}, [&] { return f.server.traceClientCount() == 1 && f.server.clientCount() == 1; }));
    CHECK(f.activations == std::vector<bool>{true});
    all.disconnect();
    REQUIRE(runUntil(f.loop, {}, [&] { return f.activations.size() == 2; }));
    CHECK(f.activations == std::vector<bool>{true, false});
    CHECK(f.server.clientCount() == 0);
    f.server.publishTrace(forA);  // nobody listening: nothing to do, nothing to crash
}

TEST_CASE("a trace reader that falls too far behind is disconnected") {
    ServerFixture f;
    f.settings.maxTraceBacklog = 64 * 1024;
    REQUIRE(f.server.start(f.settings).ok());
    Client c(f.settings.path);
    c.send("{\"cmd\":\"trace\"}\n");
    REQUIRE(runUntil(f.loop, {&c}, [&] { return c.lines().size() == 1; }));
    // Stop reading: the socket buffers fill, then the server's queue passes the bound.
    const std::string big(16 * 1024, 'x');
    app::TraceEvent e;
    e.lineId = "a";
    e.bytes = big;
    for (int i = 0; i < 400 && f.server.traceClientCount() == 1; ++i) {
        f.server.publishTrace(e);
        uv_run(&f.loop.loop, UV_RUN_NOWAIT);
    }
    CHECK(f.server.traceClientCount() == 0);
    REQUIRE(runUntil(f.loop, {}, [&] { return f.activations == std::vector<bool>{true, false}; }));
}
