#pragma once
// A TCP client on the test's own libuv loop: connects, writes what it is given, and reads
// until the server closes. Tests run the loop until every client is done.
#include <uv.h>

#include <chrono>
#include <functional>
#include <string>

#include "net/socket_address.h"
#include "net/uv_handle.h"

namespace sipreg::metrics::test {

class HttpTestClient {
public:
    HttpTestClient(uv_loop_t* loop, const net::SocketAddress& server);
    ~HttpTestClient() = default;
    HttpTestClient(const HttpTestClient&) = delete;
    HttpTestClient& operator=(const HttpTestClient&) = delete;

    // Sends `request` once connected (nothing when empty) and keeps reading.
    void start(std::string request);

    bool done() const noexcept { return done_; }        // the server closed (or an error)
    const std::string& response() const noexcept { return response_; }
    int status() const;                                  // from the status line; 0: none
    std::string header(std::string_view name) const;     // first value, or empty
    std::string body() const;
    int error() const noexcept { return error_; }        // libuv error other than EOF

private:
    static void onConnect(uv_connect_t* req, int status) noexcept;
    static void onWrite(uv_write_t* req, int status) noexcept;
    static void onRead(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) noexcept;

    net::UvHandle<uv_tcp_t> tcp_;
    net::SocketAddress server_;
    std::string request_;
    std::string response_;
    char buffer_[65536];
    bool done_ = false;
    int error_ = 0;
};

// Runs the loop until `finished` or `limit` (real time) passes; true when finished.
bool runUntil(uv_loop_t* loop, const std::function<bool()>& finished,
              std::chrono::milliseconds limit = std::chrono::milliseconds(5000));

}  // namespace sipreg::metrics::test
