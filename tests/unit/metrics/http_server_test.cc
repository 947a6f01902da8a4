#include <doctest/doctest.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "http_test_client.h"
#include "metrics/http_server.h"

using namespace sipreg;
using namespace sipreg::metrics;
using sipreg::metrics::test::HttpTestClient;
using sipreg::metrics::test::runUntil;
using namespace std::chrono_literals;

namespace {

const std::string kPage = "# HELP up 1\n# TYPE up gauge\nup 1\n";

// A loop with a server on 127.0.0.1 (any port) serving kPage at /metrics; at the end every
// handle must be closed and the loop empty.
struct Fixture {
    uv_loop_t loop{};
    std::vector<std::string> paths;  // every path the page source was asked for
    std::unique_ptr<HttpServer> server;
    net::SocketAddress address;

    explicit Fixture(HttpServerSettings settings = fastSettings(),
                     net::SocketAddress where = net::SocketAddress::loopbackV4()) {
        REQUIRE(uv_loop_init(&loop) == 0);
        server = std::make_unique<HttpServer>(
            &loop,
            [this](std::string_view path) -> std::optional<HttpPage> {
                paths.emplace_back(path);
                if (path == "/boom") throw std::runtime_error("page failed");
                if (path != "/metrics") return std::nullopt;
                return HttpPage{"text/plain; version=0.0.4", kPage};
            },
            settings);
        auto bound = server->listen(where);
        REQUIRE(bound.ok());
        address = *bound;
    }
    ~Fixture() {
        server.reset();
        clients.clear();
        for (int i = 0; i < 10 && uv_run(&loop, UV_RUN_NOWAIT) != 0; ++i) {
        }
        CHECK(uv_loop_close(&loop) == 0);
    }

    static HttpServerSettings fastSettings() {
        HttpServerSettings s;
        s.requestTimeout = 200ms;
        s.lingerTimeout = 200ms;
        return s;
    }

    HttpTestClient& client(std::string request) {
        clients.push_back(std::make_unique<HttpTestClient>(&loop, address));
        clients.back()->start(std::move(request));
        return *clients.back();
    }
    // One request, run to the end of its connection.
    HttpTestClient& exchange(std::string request) {
        HttpTestClient& c = client(std::move(request));
        REQUIRE(runUntil(&loop, [&] { return c.done(); }));
        return c;
    }

    std::vector<std::unique_ptr<HttpTestClient>> clients;
};

const char* kGet = "GET /metrics HTTP/1.1\r\nHost: localhost\r\nUser-Agent: test\r\n\r\n";

}  // namespace

TEST_CASE("GET /metrics answers 200 with the page, its type and length, then closes") {
    Fixture f;
    auto& c = f.exchange(kGet);
    CHECK(c.error() == 0);
    CHECK(c.status() == 200);
    CHECK(c.header("Content-Type") == "text/plain; version=0.0.4");
    CHECK(c.header("Content-Length") == std::to_string(kPage.size()));
    CHECK(c.header("Connection") == "close");
    CHECK_FALSE(c.header("Date").empty());
    CHECK(c.body() == kPage);
    CHECK(f.paths == std::vector<std::string>{"/metrics"});
    CHECK(runUntil(&f.loop, [&] { return f.server->connectionCount() == 0; }));
    CHECK(f.server->requestsServed() == 1);
}

TEST_CASE("the query string is not part of the path") {
    Fixture f;
    auto& c = f.exchange("GET /metrics?name%5B%5D=up HTTP/1.0\r\n\r\n");
    CHECK(c.status() == 200);
    CHECK(f.paths == std::vector<std::string>{"/metrics"});
}

TEST_CASE("HEAD gets the head of the page, Content-Length included, without a body") {
    Fixture f;
    auto& c = f.exchange("HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK(c.status() == 200);
    CHECK(c.header("Content-Length") == std::to_string(kPage.size()));
    CHECK(c.body().empty());
}

TEST_CASE("another path answers 404") {
    Fixture f;
    auto& c = f.exchange("GET /other HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK(c.status() == 404);
    CHECK(c.header("Content-Length") == std::to_string(c.body().size()));
}

TEST_CASE("other methods answer 405 with Allow, without asking for the page") {
    Fixture f;
    for (const char* method : {"POST", "PUT", "DELETE", "OPTIONS"}) {
        auto& c = f.exchange(std::string(method) + " /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc");
        CHECK(c.status() == 405);
        CHECK(c.header("Allow") == "GET, HEAD");
    }
    CHECK(f.paths.empty());
}

TEST_CASE("a request that is not HTTP answers 400") {
    Fixture f;
    auto& c = f.exchange("HELLO\x01 there\r\n\r\n");
    CHECK(c.status() == 400);
    CHECK(f.paths.empty());
}

TEST_CASE("a page source that throws answers 500 and the server keeps serving") {
    Fixture f;
    CHECK(f.exchange("GET /boom HTTP/1.1\r\n\r\n").status() == 500);
    CHECK(f.exchange(kGet).status() == 200);
}

TEST_CASE("a request head over the limit answers 431 and closes") {
    Fixture f;
    SUBCASE("the head never ends") {
        auto& c = f.exchange("GET /metrics HTTP/1.1\r\nX-Big: " + std::string(20'000, 'a'));
        CHECK(c.status() == 431);
        CHECK(c.header("Connection") == "close");
    }
    SUBCASE("a complete head just over the limit") {
        std::string request = "GET /metrics HTTP/1.1\r\nX-Big: ";
        request += std::string(8 * 1024 - request.size() - 4 + 1, 'a');
        request += "\r\n\r\n";
        REQUIRE(request.size() == 8 * 1024 + 1);
        CHECK(f.exchange(request).status() == 431);
    }
    SUBCASE("a complete head at the limit is served") {
        std::string request = "GET /metrics HTTP/1.1\r\nX-Big: ";
        request += std::string(8 * 1024 - request.size() - 4, 'a');
        request += "\r\n\r\n";
        REQUIRE(request.size() == 8 * 1024);
        CHECK(f.exchange(request).status() == 200);
    }
    CHECK(f.paths.size() <= 1);
}

TEST_CASE("two clients at once are both served") {
    Fixture f;
    auto& a = f.client(kGet);
    auto& b = f.client(kGet);
    REQUIRE(runUntil(&f.loop, [&] { return a.done() && b.done(); }));
    CHECK(a.status() == 200);
    CHECK(b.status() == 200);
    CHECK(a.body() == kPage);
    CHECK(b.body() == kPage);
    CHECK(f.paths.size() == 2);
}

TEST_CASE("a slow client does not hold up others and is cut off at the request deadline") {
    Fixture f;
    auto& slow = f.client("GET /metrics HTTP/1.1\r\nHost: x\r\n");  // the head never ends
    auto& fast = f.client(kGet);
    REQUIRE(runUntil(&f.loop, [&] { return fast.done(); }));
    CHECK(fast.status() == 200);
    CHECK_FALSE(slow.done());
    REQUIRE(runUntil(&f.loop, [&] { return slow.done(); }));
    CHECK(slow.status() == 408);
    CHECK(runUntil(&f.loop, [&] { return f.server->connectionCount() == 0; }));
}

TEST_CASE("a client that sends nothing is closed at the deadline without an answer") {
    Fixture f;
    auto& idle = f.exchange("");
    CHECK(idle.response().empty());
    CHECK(f.paths.empty());
}

TEST_CASE("connections over the cap are closed at once") {
    HttpServerSettings s = Fixture::fastSettings();
    s.maxConnections = 1;
    Fixture f(s);
    auto& holder = f.client("GET /metrics HTTP/1.1\r\n");
    REQUIRE(runUntil(&f.loop, [&] { return f.server->connectionCount() == 1; }));
    auto& extra = f.client(kGet);
    REQUIRE(runUntil(&f.loop, [&] { return extra.done(); }));
    CHECK(extra.response().empty());
    CHECK_FALSE(holder.done());
    REQUIRE(runUntil(&f.loop, [&] { return holder.done(); }));
    CHECK(holder.status() == 408);
}

TEST_CASE("IPv6 loopback works too") {
    Fixture f(Fixture::fastSettings(), net::SocketAddress::loopbackV6());
    CHECK(f.address.family() == net::AddressFamily::IPv6);
    CHECK(f.exchange(kGet).status() == 200);
}

TEST_CASE("a port in use is an error naming the address") {
    Fixture f;
    HttpServer second(&f.loop, [](std::string_view) { return std::optional<HttpPage>(); });
    auto r = second.listen(f.address);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find("cannot listen on tcp " + f.address.toString()) != std::string::npos);
}

TEST_CASE("closing the server with connections open leaves nothing behind in the loop") {
    Fixture f;
    auto& c = f.client("GET /metrics HTTP/1.1\r\n");
    REQUIRE(runUntil(&f.loop, [&] { return f.server->connectionCount() == 1; }));
    f.server->close();
    REQUIRE(runUntil(&f.loop, [&] { return c.done(); }));
    CHECK(c.response().empty());
    // The fixture's destructor checks the loop closes cleanly.
}
