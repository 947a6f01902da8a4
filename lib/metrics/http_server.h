#pragma once
// A deliberately small HTTP/1.1 server for read-only pages such as /metrics: GET and HEAD
// only, one request per connection (the response says "Connection: close"), a bounded
// request head, a deadline for the whole request, and a cap on open connections. Requests
// are parsed by http_parser. One libuv loop, one thread.
#include <uv.h>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "net/socket_address.h"
#include "net/uv_handle.h"
#include "util/result.h"

namespace sipreg::metrics {

class HttpConnection;

struct HttpServerSettings {
    std::size_t maxHeaderBytes = 8 * 1024;         // request line and headers; more: 431
    std::chrono::milliseconds requestTimeout{10'000};  // from accept to a complete head; then 408
    std::chrono::milliseconds writeTimeout{30'000};    // for the client to take the response
    std::chrono::milliseconds lingerTimeout{2'000};    // after our FIN, for the client's
    std::size_t maxConnections = 32;               // more are accepted and closed at once
};

struct HttpPage {
    std::string contentType;
    std::string body;
};

// Produces the page at `path` (the URL path, without the query); nullopt answers 404.
using HttpPageSource = std::function<std::optional<HttpPage>(std::string_view path)>;

class HttpServer {
public:
    HttpServer(uv_loop_t* loop, HttpPageSource source, HttpServerSettings settings = {});
    ~HttpServer();
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    // Binds and listens; returns the bound address (the real port when asked for port 0).
    Result<net::SocketAddress> listen(const net::SocketAddress& address);
    // Stops listening and drops every connection; the handles finish closing in the loop.
    void close() noexcept;

    std::size_t connectionCount() const noexcept { return connections_.size(); }
    std::size_t requestsServed() const noexcept { return served_; }

private:
    static void onConnection(uv_stream_t* server, int status) noexcept;
    void accept();
    void finished(HttpConnection* c) noexcept;

    uv_loop_t* loop_;
    HttpPageSource source_;
    HttpServerSettings settings_;
    net::UvHandle<uv_tcp_t> listener_;
    std::unordered_map<HttpConnection*, std::unique_ptr<HttpConnection>> connections_;
    std::size_t served_ = 0;
};

}  // namespace sipreg::metrics
