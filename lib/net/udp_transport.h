#pragma once
// The UDP transport shared by every line: at most one socket per address family, one
// 64 KiB receive buffer per socket, datagrams sent with uv_udp_try_send and, when the
// kernel queue is full (EAGAIN), queued through uv_udp_send with a buffer the request
// owns. Every failure reaches the owner: synchronous ones as the send() result,
// asynchronous ones (queued sends, receive errors) through the error handler.
#include <uv.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>

#include "net/socket_address.h"
#include "net/transport_error.h"
#include "net/uv_handle.h"
#include "util/result.h"

namespace sipreg::net {

class UdpTransport {
public:
    // `bytes` is only valid during the call. `local` is the receiving socket's bound address.
    using ReceiveHandler =
        std::function<void(std::string_view bytes, const SocketAddress& from, const SocketAddress& local)>;
    using ErrorHandler = std::function<void(const TransportError& error)>;

    struct BindOptions {
        int receiveBufferBytes = 0;  // SO_RCVBUF when > 0 (the kernel may double or cap it)
        int sendBufferBytes = 0;     // SO_SNDBUF when > 0
    };

    struct Counters {
        uint64_t datagramsIn = 0;
        uint64_t datagramsOut = 0;  // accepted by the kernel (immediately or after queueing)
        uint64_t bytesIn = 0;
        uint64_t bytesOut = 0;
        uint64_t sendErrors = 0;
        uint64_t receiveErrors = 0;  // includes truncated datagrams
        uint64_t sendsQueued = 0;    // went through uv_udp_send (EAGAIN fallback or sendQueued)
    };

    static constexpr std::size_t kReceiveBufferSize = 64 * 1024;

    UdpTransport(uv_loop_t* loop, ReceiveHandler onReceive, ErrorHandler onError);
    ~UdpTransport();
    UdpTransport(const UdpTransport&) = delete;
    UdpTransport& operator=(const UdpTransport&) = delete;

    // Opens the socket of `local`'s family, binds it and starts receiving. Port 0 picks an
    // ephemeral port; the result is the address actually bound. IPv6 sockets are v6-only
    // so both families can share a port number.
    Result<SocketAddress> bind(const SocketAddress& local, const BindOptions& options);
    Result<SocketAddress> bind(const SocketAddress& local) { return bind(local, BindOptions{}); }

    // Sends one datagram from the socket of `to`'s family.
    Result<void> send(const SocketAddress& to, std::string_view bytes);

    // Always goes through libuv's send queue with a copy of `bytes` (the path send() takes
    // on EAGAIN); the datagram leaves when the socket is writable.
    Result<void> sendQueued(const SocketAddress& to, std::string_view bytes);

    std::optional<SocketAddress> localAddress(AddressFamily family) const;
    bool hasSocket(AddressFamily family) const noexcept;
    const Counters& counters() const noexcept { return counters_; }
    std::size_t pendingSends() const noexcept { return pendingSends_; }

    // Closes both sockets; pending queued sends are cancelled (counted as send errors only
    // while the transport is alive). Safe to call more than once.
    void close() noexcept;

private:
    struct Socket;
    struct SendRequest;

    Socket* socketFor(AddressFamily family) const noexcept;
    Result<void> queueSend(Socket& socket, const SocketAddress& to, std::string_view bytes);
    void deliver(Socket& socket, ssize_t nread, const uv_buf_t* buf, const sockaddr* addr, unsigned flags);
    void reportError(TransportError error);

    static void onAlloc(uv_handle_t* h, size_t suggested, uv_buf_t* buf) noexcept;
    static void onReceive(uv_udp_t* h, ssize_t nread, const uv_buf_t* buf, const sockaddr* addr,
                          unsigned flags) noexcept;
    static void onSent(uv_udp_send_t* req, int status) noexcept;

    uv_loop_t* loop_;
    ReceiveHandler onReceive_;
    ErrorHandler onError_;
    std::unique_ptr<Socket> v4_;
    std::unique_ptr<Socket> v6_;
    Counters counters_;
    std::size_t pendingSends_ = 0;
};

}  // namespace sipreg::net
