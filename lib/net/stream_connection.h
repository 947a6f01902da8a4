#pragma once
// One TCP (optionally TLS) client connection on the libuv loop: connect with a timeout,
// the TLS handshake through a TlsSession, SIP framing, RFC 5626 keep-alive, a bounded write
// queue. It reports to a Listener (the StreamTransport) and never deletes itself.
//
// Closing is one-way and idempotent: close() or any failure releases every libuv handle at
// once (pending callbacks then find no owner) and tells the listener exactly once. The
// object itself may be destroyed later, outside its own callbacks.
#include <uv.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "net/socket_address.h"
#include "net/stream_types.h"
#include "net/uv_handle.h"
#include "sip/stream_framer.h"
#include "util/result.h"

namespace sipreg::net {

class TlsSession;

class StreamConnection {
public:
    class Listener {
    public:
        virtual ~Listener() = default;
        // TCP connected and, for TLS, the handshake done: the flow is usable.
        virtual void onConnectionReady(StreamConnection& connection) = 0;
        // One framed SIP message (raw bytes, valid during the call).
        virtual void onConnectionMessage(StreamConnection& connection, std::string_view message) = 0;
        // Called once. `reason` is the full text for logs; `cause` the short why ("connection
        // refused", "timed out", the TLS layer's reason) used in backoff messages.
        virtual void onConnectionClosed(StreamConnection& connection, const std::string& reason,
                                        const std::string& cause) = 0;
    };

    enum class State { Idle, Connecting, Handshaking, Ready, Closed };

    // `readBuffer` is shared by every connection of the transport (one thread; each read is
    // consumed before the next allocation) and must outlive the connection's handles.
    StreamConnection(uv_loop_t* loop, uint64_t flow, StreamTarget target, const StreamSettings& settings,
                     StreamCounters& counters, Listener& listener, char* readBuffer, std::size_t readBufferSize);
    ~StreamConnection();
    StreamConnection(const StreamConnection&) = delete;
    StreamConnection& operator=(const StreamConnection&) = delete;

    // Starts the TCP connect. An error means nothing was started (the listener is not told).
    Result<void> connect();

    // Queues bytes (kept in order while connecting or handshaking). Errors: the flow is
    // closed, the queue bound would be passed (the flow stays open), or the write failed
    // (the flow is then closed and the listener told).
    Result<void> send(std::string_view bytes);

    // Closes (no-op once closed). A TLS flow gets a best-effort close_notify first.
    void close(const std::string& reason);

    // Closes with `reason` after `delay` unless cancelled; used for flows nobody holds.
    void startLinger(Duration delay);
    void cancelLinger() noexcept;

    uint64_t flow() const noexcept { return flow_; }
    State state() const noexcept { return state_; }
    bool ready() const noexcept { return state_ == State::Ready; }
    bool wasReady() const noexcept { return wasReady_; }
    const StreamTarget& target() const noexcept { return target_; }
    const SocketAddress& remote() const noexcept { return target_.remote; }
    const SocketAddress& local() const noexcept { return local_; }
    // Bytes accepted by send() not yet taken by the kernel.
    std::size_t queuedBytes() const noexcept { return pendingPlain_.size() + writeQueueBytes_; }

private:
    struct ConnectRequest;
    struct WriteRequest;
    enum class KeepaliveState { Waiting, AwaitingPong };

    void onConnected(int status);
    void onRead(ssize_t nread, const uv_buf_t* buf);
    void onWritten(std::size_t length, int status);
    void onConnectTimeout();
    void onKeepaliveTimer();

    void becomeReady();
    void handlePlain(std::string_view plain);
    void startKeepalive();
    void armKeepalive(Duration delay);
    // Puts bytes on the socket (after TLS, if any). false: the flow failed and is closed.
    bool writeRaw(std::string_view bytes);
    bool writePlain(std::string_view bytes);
    bool flushTlsOutput();
    void fail(const std::string& reason, const std::string& cause);
    void releaseHandles() noexcept;
    uint64_t nowMs() const noexcept { return uv_now(loop_); }

    static void onConnectCb(uv_connect_t* req, int status) noexcept;
    static void onAllocCb(uv_handle_t* h, size_t suggested, uv_buf_t* buf) noexcept;
    static void onReadCb(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) noexcept;
    static void onWriteCb(uv_write_t* req, int status) noexcept;
    static void onConnectTimerCb(uv_timer_t* t) noexcept;
    static void onKeepaliveTimerCb(uv_timer_t* t) noexcept;
    static void onLingerTimerCb(uv_timer_t* t) noexcept;

    uv_loop_t* loop_;
    uint64_t flow_;
    StreamTarget target_;
    const StreamSettings& settings_;
    StreamCounters& counters_;
    Listener& listener_;
    char* readBuffer_;
    std::size_t readBufferSize_;

    State state_ = State::Idle;
    bool wasReady_ = false;
    SocketAddress local_;
    UvHandle<uv_tcp_t> socket_;
    UvHandle<uv_timer_t> connectTimer_;
    UvHandle<uv_timer_t> keepaliveTimer_;
    UvHandle<uv_timer_t> lingerTimer_;
    std::unique_ptr<TlsSession> tls_;
    sip::StreamFramer framer_;
    std::string pendingPlain_;        // sent before the flow was ready
    std::size_t writeQueueBytes_ = 0;  // handed to uv_write, not completed
    std::size_t writesInFlight_ = 0;
    KeepaliveState keepaliveState_ = KeepaliveState::Waiting;
    uint64_t lastReceiveMs_ = 0;
    uint64_t partialSinceMs_ = 0;  // when the framer began holding an incomplete message; 0: none
};

}  // namespace sipreg::net
