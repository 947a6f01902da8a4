#include "net/udp_transport.h"

#include <cstring>
#include <string>
#include <utility>

namespace sipreg::net {

struct UdpTransport::Socket {
    UdpTransport* owner = nullptr;
    UvHandle<uv_udp_t> handle;
    SocketAddress local;
    std::unique_ptr<char[]> buffer = std::make_unique<char[]>(kReceiveBufferSize);
};

// A queued datagram owns its bytes: the transport may be gone when libuv finishes with it.
struct UdpTransport::SendRequest {
    uv_udp_send_t req{};
    std::unique_ptr<char[]> bytes;
    std::size_t length = 0;
    SocketAddress to;
};

UdpTransport::UdpTransport(uv_loop_t* loop, ReceiveHandler onReceive, ErrorHandler onError)
    : loop_(loop), onReceive_(std::move(onReceive)), onError_(std::move(onError)) {}

UdpTransport::~UdpTransport() { close(); }

void UdpTransport::close() noexcept {
    v4_.reset();
    v6_.reset();
}

UdpTransport::Socket* UdpTransport::socketFor(AddressFamily family) const noexcept {
    return family == AddressFamily::IPv4 ? v4_.get() : v6_.get();
}

bool UdpTransport::hasSocket(AddressFamily family) const noexcept { return socketFor(family) != nullptr; }

std::optional<SocketAddress> UdpTransport::localAddress(AddressFamily family) const {
    const Socket* s = socketFor(family);
    if (s == nullptr) return std::nullopt;
    return s->local;
}

Result<SocketAddress> UdpTransport::bind(const SocketAddress& local, const BindOptions& options) {
    const std::string where = "UDP socket " + local.toString();
    if (socketFor(local.family()) != nullptr) {
        return makeError(where + ": an " + std::string(familyName(local.family())) + " socket is already bound");
    }
    auto socket = std::make_unique<Socket>();
    socket->owner = this;
    int rc = uv_udp_init(loop_, socket->handle.get());
    if (rc != 0) return makeError(describeUvError(where + ": init", rc));
    socket->handle.get()->data = socket.get();

    const unsigned flags = local.family() == AddressFamily::IPv6 ? UV_UDP_IPV6ONLY : 0;
    rc = uv_udp_bind(socket->handle.get(), local.sockaddrPtr(), flags);
    if (rc != 0) return makeError(describeUvError(where + ": bind", rc));

    if (options.receiveBufferBytes > 0) {
        int value = options.receiveBufferBytes;
        rc = uv_recv_buffer_size(socket->handle.base(), &value);
        if (rc != 0) return makeError(describeUvError(where + ": SO_RCVBUF", rc));
    }
    if (options.sendBufferBytes > 0) {
        int value = options.sendBufferBytes;
        rc = uv_send_buffer_size(socket->handle.base(), &value);
        if (rc != 0) return makeError(describeUvError(where + ": SO_SNDBUF", rc));
    }

    sockaddr_storage bound{};
    int length = sizeof bound;
    rc = uv_udp_getsockname(socket->handle.get(), reinterpret_cast<sockaddr*>(&bound), &length);
    if (rc != 0) return makeError(describeUvError(where + ": getsockname", rc));
    auto boundAddress = SocketAddress::fromSockaddr(reinterpret_cast<const sockaddr*>(&bound));
    if (!boundAddress) return makeError(where + ": " + boundAddress.error().message);
    socket->local = *boundAddress;

    rc = uv_udp_recv_start(socket->handle.get(), &UdpTransport::onAlloc, &UdpTransport::onReceive);
    if (rc != 0) return makeError(describeUvError(where + ": start receiving", rc));

    (local.family() == AddressFamily::IPv4 ? v4_ : v6_) = std::move(socket);
    return *boundAddress;
}

Result<void> UdpTransport::send(const SocketAddress& to, std::string_view bytes) {
    Socket* s = socketFor(to.family());
    if (s == nullptr) {
        ++counters_.sendErrors;
        return makeError("send to " + to.toString() + ": no " + std::string(familyName(to.family())) +
                         " UDP socket is bound");
    }
    uv_buf_t buf = uv_buf_init(const_cast<char*>(bytes.data()), static_cast<unsigned>(bytes.size()));
    int rc = uv_udp_try_send(s->handle.get(), &buf, 1, to.sockaddrPtr());
    if (rc >= 0) {
        ++counters_.datagramsOut;
        counters_.bytesOut += bytes.size();
        return {};
    }
    if (rc != UV_EAGAIN) {
        ++counters_.sendErrors;
        return makeError(describeUvError("send to " + to.toString(), rc));
    }
    // The kernel queue is full, or earlier datagrams are still queued (try_send reports
    // that as EAGAIN too, to keep order): hand libuv a copy.
    return queueSend(*s, to, bytes);
}

Result<void> UdpTransport::sendQueued(const SocketAddress& to, std::string_view bytes) {
    Socket* s = socketFor(to.family());
    if (s == nullptr) {
        ++counters_.sendErrors;
        return makeError("send to " + to.toString() + ": no " + std::string(familyName(to.family())) +
                         " UDP socket is bound");
    }
    return queueSend(*s, to, bytes);
}

Result<void> UdpTransport::queueSend(Socket& s, const SocketAddress& to, std::string_view bytes) {
    auto req = std::make_unique<SendRequest>();
    req->bytes = std::make_unique<char[]>(bytes.empty() ? 1 : bytes.size());
    if (!bytes.empty()) std::memcpy(req->bytes.get(), bytes.data(), bytes.size());
    req->length = bytes.size();
    req->to = to;
    req->req.data = req.get();
    uv_buf_t owned = uv_buf_init(req->bytes.get(), static_cast<unsigned>(req->length));
    const int rc = uv_udp_send(&req->req, s.handle.get(), &owned, 1, to.sockaddrPtr(), &UdpTransport::onSent);
    if (rc != 0) {
        ++counters_.sendErrors;
        return makeError(describeUvError("send to " + to.toString(), rc));
    }
    req.release();  // freed in onSent, which libuv always calls (ECANCELED on close)
    ++counters_.sendsQueued;
    ++pendingSends_;
    return {};
}

void UdpTransport::onSent(uv_udp_send_t* raw, int status) noexcept {
    std::unique_ptr<SendRequest> req(static_cast<SendRequest*>(raw->data));
    Socket* s = ownerOf<Socket>(raw->handle);
    if (s == nullptr) return;  // transport closed: the cancelled send has no one to tell
    UdpTransport* self = s->owner;
    --self->pendingSends_;
    if (status == 0) {
        ++self->counters_.datagramsOut;
        self->counters_.bytesOut += req->length;
        return;
    }
    ++self->counters_.sendErrors;
    TransportError error;
    error.kind = TransportError::Kind::Send;
    error.code = status;
    error.peer = req->to;
    guardCallback("udp.send", [&] {
        error.message = describeUvError("send to " + req->to.toString(), status);
        self->reportError(std::move(error));
    });
}

void UdpTransport::onAlloc(uv_handle_t* h, size_t /*suggested*/, uv_buf_t* buf) noexcept {
    Socket* s = ownerOf<Socket>(h);
    if (s == nullptr) {
        *buf = uv_buf_init(nullptr, 0);  // libuv then reports UV_ENOBUFS, which is ignored
        return;
    }
    *buf = uv_buf_init(s->buffer.get(), static_cast<unsigned>(kReceiveBufferSize));
}

void UdpTransport::onReceive(uv_udp_t* h, ssize_t nread, const uv_buf_t* buf, const sockaddr* addr,
                             unsigned flags) noexcept {
    Socket* s = ownerOf<Socket>(h);
    if (s == nullptr) return;
    guardCallback("udp.receive", [&] { s->owner->deliver(*s, nread, buf, addr, flags); });
}

void UdpTransport::deliver(Socket& socket, ssize_t nread, const uv_buf_t* buf, const sockaddr* addr,
                           unsigned flags) {
    if (nread == 0 && addr == nullptr) return;  // nothing more to read this time
    if (nread < 0) {
        ++counters_.receiveErrors;
        TransportError error;
        error.kind = TransportError::Kind::Receive;
        error.code = static_cast<int>(nread);
        error.message = describeUvError("receive on " + socket.local.toString(), error.code);
        reportError(std::move(error));
        return;
    }
    auto from = SocketAddress::fromSockaddr(addr);
    if (!from) {
        ++counters_.receiveErrors;
        reportError(TransportError{TransportError::Kind::Receive, 0, std::nullopt,
                                   "receive on " + socket.local.toString() + ": " + from.error().message});
        return;
    }
    if ((flags & UV_UDP_PARTIAL) != 0) {
        ++counters_.receiveErrors;
        reportError(TransportError{TransportError::Kind::Truncated, 0, *from,
                                   "datagram from " + from->toString() + " larger than " +
                                       std::to_string(kReceiveBufferSize) + " bytes dropped"});
        return;
    }
    ++counters_.datagramsIn;
    counters_.bytesIn += static_cast<uint64_t>(nread);
    // Last statement: the handler may close or destroy this transport.
    const SocketAddress local = socket.local;
    if (onReceive_) onReceive_(std::string_view(buf->base, static_cast<std::size_t>(nread)), *from, local);
}

void UdpTransport::reportError(TransportError error) {
    if (onError_) onError_(error);
}

}  // namespace sipreg::net
