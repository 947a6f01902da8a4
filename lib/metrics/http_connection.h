#pragma once
// One accepted HTTP connection: reads and parses a request head, answers it once, then
// closes gracefully (FIN, then waits a little for the client's) so the response is never
// lost to a reset. Internal to HttpServer.
#include <http_parser.h>
#include <uv.h>

#include <cstddef>
#include <functional>
#include <string>

#include "metrics/http_server.h"
#include "net/uv_handle.h"

namespace sipreg::metrics {

class HttpConnection {
public:
    // `done` is called once, when the connection is over; it may destroy this object and is
    // the last thing any callback does.
    HttpConnection(net::UvHandle<uv_tcp_t> tcp, const HttpPageSource& source, const HttpServerSettings& settings,
                   std::function<void(HttpConnection*)> done);
    ~HttpConnection();
    HttpConnection(const HttpConnection&) = delete;
    HttpConnection& operator=(const HttpConnection&) = delete;

    // False when the connection could not start (it is then over; `done` is not called).
    bool start(uv_loop_t* loop);
    bool answered() const noexcept { return phase_ != Phase::Reading; }

private:
    enum class Phase { Reading, Writing, Lingering };

    static void onAlloc(uv_handle_t* h, std::size_t suggested, uv_buf_t* buf) noexcept;
    static void onRead(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) noexcept;
    static void onWritten(uv_write_t* req, int status) noexcept;
    static void onShutdown(uv_shutdown_t* req, int status) noexcept;
    static void onTimer(uv_timer_t* t) noexcept;
    static int onUrl(http_parser* p, const char* at, std::size_t length);
    static int onHeadersComplete(http_parser* p);

    void consume(const char* data, std::size_t length);
    void answerRequest();
    void answer(int status, std::string_view allow = {});
    void send(std::string head, std::string body);
    void afterWrite(int status);
    void armTimer(std::chrono::milliseconds after);
    void finish() noexcept;

    net::UvHandle<uv_tcp_t> tcp_;
    net::UvHandle<uv_timer_t> timer_;
    const HttpPageSource& source_;
    const HttpServerSettings& settings_;
    std::function<void(HttpConnection*)> done_;
    http_parser parser_{};
    std::string url_;
    std::size_t received_ = 0;
    bool headComplete_ = false;
    bool eofSeen_ = false;
    Phase phase_ = Phase::Reading;
    char buffer_[4096];
};

}  // namespace sipreg::metrics
