#pragma once
// The control socket on the libuv loop: a Unix stream socket where each client sends
// request lines and reads reply lines (handleRequest), or turns into a trace stream.
// Bounded everywhere: request size, number of clients, idle time, and the backlog a slow
// trace reader may build up (it is dropped beyond it).
//
// Clients are closed at once (handles released) but freed on a zero-delay timer, never
// inside publishTrace(): the trace hook runs inside the engine, which must not see its
// listener replaced while calling it.
#include <uv.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "app/line_status.h"
#include "control/backend.h"
#include "control/line_buffer.h"
#include "control/socket_file.h"
#include "net/uv_handle.h"
#include "util/result.h"

namespace spdlog {
class logger;
}

namespace sipreg::control {

struct ServerSettings {
    std::string path;
    uint32_t mode = 0660;                          // permission bits of the socket file
    std::size_t maxRequestBytes = 64 * 1024;       // one request line
    std::size_t maxClients = 64;
    std::chrono::milliseconds idleTimeout{60'000};  // a request client that sends nothing
    std::size_t maxTraceBacklog = 4 * 1024 * 1024; // unsent trace bytes before dropping the reader
};

class ControlServer {
public:
    ControlServer(uv_loop_t* loop, Backend& backend, std::shared_ptr<spdlog::logger> log);
    ~ControlServer();
    ControlServer(const ControlServer&) = delete;
    ControlServer& operator=(const ControlServer&) = delete;

    // Binds and listens; a stale socket file is replaced, a live one is an error.
    Result<void> start(ServerSettings settings);
    // Stops listening, drops every client, removes the socket file. Idempotent.
    void close();

    // Called with true when the first trace client attaches, false when the last leaves.
    void setTraceActivation(std::function<void(bool)> onChange) { traceActivation_ = std::move(onChange); }
    // Sends one message to every trace client that follows its line (or all lines).
    void publishTrace(const app::TraceEvent& event);

    bool listening() const noexcept { return listener_.initialised(); }
    std::size_t clientCount() const noexcept;
    std::size_t traceClientCount() const noexcept { return tracing_; }
    const std::string& path() const noexcept { return settings_.path; }

private:
    struct Client;
    struct WriteRequest;

    void onConnection(int status);
    void onRead(Client& client, ssize_t nread, const uv_buf_t* buf);
    void onWritten(Client& client, std::size_t bytes, int status);
    void handleLine(Client& client, const std::string& line);
    bool send(Client& client, std::string bytes);
    void closeAfterWrites(Client& client);
    void drop(Client& client);
    void scheduleReap();
    void reap();
    void sweepIdle();
    void updateTraceActivation();

    static void onConnectionCb(uv_stream_t* server, int status) noexcept;
    static void onAllocCb(uv_handle_t* h, size_t suggested, uv_buf_t* buf) noexcept;
    static void onReadCb(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) noexcept;
    static void onWriteCb(uv_write_t* req, int status) noexcept;
    static void onReapCb(uv_timer_t* t) noexcept;
    static void onSweepCb(uv_timer_t* t) noexcept;

    uv_loop_t* loop_;
    Backend& backend_;
    std::shared_ptr<spdlog::logger> log_;
    ServerSettings settings_;
    FileIdentity socketFile_;
    net::UvHandle<uv_pipe_t> listener_;
    net::UvHandle<uv_timer_t> reapTimer_;
    net::UvHandle<uv_timer_t> sweepTimer_;
    std::vector<std::unique_ptr<Client>> clients_;
    std::size_t tracing_ = 0;       // live trace clients
    bool traceActive_ = false;      // what traceActivation_ was last told
    std::function<void(bool)> traceActivation_;
    std::vector<char> readBuffer_;  // shared: each read is consumed before the next
};

}  // namespace sipreg::control
