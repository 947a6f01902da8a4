#include "net/stream_connection.h"

#include <utility>

#include "net/stream_format.h"
#include "net/tls_session.h"
#include "net/transport_error.h"

namespace sipreg::net {
namespace {

constexpr std::string_view kPing = "\r\n\r\n";
constexpr std::string_view kPong = "\r\n";

uint64_t toTimerMs(Duration d) noexcept { return d.count() <= 0 ? 0 : static_cast<uint64_t>(d.count()); }

}  // namespace

// Requests own their memory: libuv may report them after the connection has closed (with
// UV_ECANCELED, before the handle's close callback); they then find no owner and just free.
struct StreamConnection::ConnectRequest {
    uv_connect_t req{};
};

struct StreamConnection::WriteRequest {
    uv_write_t req{};
    std::string bytes;
};

StreamConnection::StreamConnection(uv_loop_t* loop, uint64_t flow, StreamTarget target,
                                   const StreamSettings& settings, StreamCounters& counters, Listener& listener,
                                   char* readBuffer, std::size_t readBufferSize)
    : loop_(loop),
      flow_(flow),
      target_(std::move(target)),
      settings_(settings),
      counters_(counters),
      listener_(listener),
      readBuffer_(readBuffer),
      readBufferSize_(readBufferSize) {}

StreamConnection::~StreamConnection() { releaseHandles(); }

void StreamConnection::releaseHandles() noexcept {
    socket_.reset();
    connectTimer_.reset();
    keepaliveTimer_.reset();
    lingerTimer_.reset();
}

Result<void> StreamConnection::connect() {
    const std::string where = "connect to " + target_.remote.toString();
    if (state_ != State::Idle) return makeError(where + ": already started");
    if (target_.kind == txn::TransportKind::Tls) {
        if (!target_.tls) return makeError(where + ": a TLS flow needs a TLS context");
        tls_ = std::make_unique<TlsSession>(target_.tls, target_.serverName, target_.verify);
    } else if (target_.kind != txn::TransportKind::Tcp) {
        return makeError(where + ": not a stream transport");
    }

    int rc = uv_tcp_init(loop_, socket_.get());
    if (rc != 0) return makeError(describeUvError(where + ": socket", rc));
    socket_.get()->data = this;
    // SIP messages are small and latency matters more than packet count.
    uv_tcp_nodelay(socket_.get(), 1);

    auto request = std::make_unique<ConnectRequest>();
    request->req.data = request.get();
    rc = uv_tcp_connect(&request->req, socket_.get(), target_.remote.sockaddrPtr(), &StreamConnection::onConnectCb);
    if (rc != 0) {
        releaseHandles();
        state_ = State::Closed;
        return makeError(describeUvError(where, rc));
    }
    request.release();  // freed by onConnectCb, which libuv always calls
    ++counters_.connectAttempts;
    state_ = State::Connecting;

    if (settings_.connectTimeout.count() > 0) {
        rc = uv_timer_init(loop_, connectTimer_.get());
        if (rc == 0) {
            connectTimer_.get()->data = this;
            rc = uv_timer_start(connectTimer_.get(), &StreamConnection::onConnectTimerCb,
                                toTimerMs(settings_.connectTimeout), 0);
        }
        if (rc != 0) {
            releaseHandles();
            state_ = State::Closed;
            return makeError(describeUvError(where + ": connect timer", rc));
        }
    }
    return {};
}

void StreamConnection::onConnectCb(uv_connect_t* raw, int status) noexcept {
    std::unique_ptr<ConnectRequest> request(static_cast<ConnectRequest*>(raw->data));
    auto* self = ownerOf<StreamConnection>(raw->handle);
    if (self == nullptr) return;
    guardCallback("stream.connect", [&] { self->onConnected(status); });
}

void StreamConnection::onConnected(int status) {
    if (state_ != State::Connecting) return;
    const std::string where = "connect to " + target_.remote.toString();
    if (status != 0) {
        fail(describeUvError(where + " failed", status), uv_strerror(status));
        return;
    }
    sockaddr_storage bound{};
    int length = sizeof bound;
    int rc = uv_tcp_getsockname(socket_.get(), reinterpret_cast<sockaddr*>(&bound), &length);
    auto address = rc == 0 ? SocketAddress::fromSockaddr(reinterpret_cast<const sockaddr*>(&bound))
                           : Result<SocketAddress>(makeError(describeUvError("getsockname", rc)));
    if (!address) {
        fail(where + ": local address unknown: " + address.error().message, "local address unknown");
        return;
    }
    local_ = *address;
    lastReceiveMs_ = nowMs();

    rc = uv_read_start(reinterpret_cast<uv_stream_t*>(socket_.get()), &StreamConnection::onAllocCb,
                       &StreamConnection::onReadCb);
    if (rc != 0) {
        fail(describeUvError(where + ": start reading", rc), uv_strerror(rc));
        return;
    }

    if (!tls_) {
        becomeReady();
        return;
    }
    state_ = State::Handshaking;
    auto started = tls_->start();
    if (!started) {
        ++counters_.tlsFailures;
        fail("TLS handshake with " + target_.remote.toString() + " failed: " + started.error().message,
             started.error().message);
        return;
    }
    flushTlsOutput();
}

void StreamConnection::becomeReady() {
    state_ = State::Ready;
    connectTimer_.reset();
    // Bytes sent while connecting go first, in order, before anyone is told.
    if (!pendingPlain_.empty()) {
        std::string queued = std::exchange(pendingPlain_, std::string());
        if (!writePlain(queued)) return;
    }
    wasReady_ = true;
    ++counters_.connects;
    startKeepalive();
    listener_.onConnectionReady(*this);
}

void StreamConnection::onConnectTimerCb(uv_timer_t* t) noexcept {
    auto* self = ownerOf<StreamConnection>(t);
    if (self == nullptr) return;
    guardCallback("stream.connect_timeout", [&] { self->onConnectTimeout(); });
}

void StreamConnection::onConnectTimeout() {
    if (state_ != State::Connecting && state_ != State::Handshaking) return;
    const std::string what = state_ == State::Connecting ? "connect to " : "TLS handshake with ";
    fail(what + target_.remote.toString() + " timed out after " + formatDuration(settings_.connectTimeout),
         "timed out");
}

void StreamConnection::onAllocCb(uv_handle_t* h, size_t /*suggested*/, uv_buf_t* buf) noexcept {
    auto* self = ownerOf<StreamConnection>(h);
    if (self == nullptr) {
        *buf = uv_buf_init(nullptr, 0);  // libuv reports UV_ENOBUFS, which finds no owner
        return;
    }
    *buf = uv_buf_init(self->readBuffer_, static_cast<unsigned>(self->readBufferSize_));
}

void StreamConnection::onReadCb(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) noexcept {
    auto* self = ownerOf<StreamConnection>(s);
    if (self == nullptr) return;
    guardCallback("stream.read", [&] { self->onRead(nread, buf); });
}

void StreamConnection::onRead(ssize_t nread, const uv_buf_t* buf) {
    if (state_ == State::Closed || nread == 0) return;
    if (nread < 0) {
        if (nread == UV_EOF) {
            fail("connection to " + target_.remote.toString() + " closed by the peer", "closed by the peer");
        } else {
            const int code = static_cast<int>(nread);
            fail(describeUvError("read from " + target_.remote.toString(), code), uv_strerror(code));
        }
        return;
    }
    counters_.bytesIn += static_cast<uint64_t>(nread);
    lastReceiveMs_ = nowMs();
    const std::string_view bytes(buf->base, static_cast<std::size_t>(nread));
    if (!tls_) {
        handlePlain(bytes);
        return;
    }

    std::string plain;
    auto fed = tls_->feed(bytes, plain);
    // Whatever the session produced (handshake records, an alert) goes out first.
    if (!flushTlsOutput()) return;
    if (!fed) {
        ++counters_.tlsFailures;
        const std::string what = wasReady_ ? "TLS error on connection to " : "TLS handshake with ";
        fail(what + target_.remote.toString() + " failed: " + fed.error().message, fed.error().message);
        return;
    }
    if (state_ == State::Handshaking && tls_->handshakeDone()) {
        becomeReady();
        if (state_ == State::Closed) return;
    }
    if (!plain.empty()) handlePlain(plain);
    if (state_ != State::Closed && tls_->peerClosed()) {
        fail("connection to " + target_.remote.toString() + " closed by the peer (TLS close_notify)",
             "closed by the peer");
    }
}

void StreamConnection::handlePlain(std::string_view plain) {
    auto framed = framer_.feed(plain);
    if (!framed) {
        ++counters_.framingErrors;
        fail("framing error on connection to " + target_.remote.toString() + ": " + framed.error().message,
             "framing error");
        return;
    }
    if (framed->pongs > 0) {
        counters_.pongsReceived += framed->pongs;
        if (keepaliveState_ == KeepaliveState::AwaitingPong) {
            keepaliveState_ = KeepaliveState::Waiting;
            armKeepalive(settings_.keepaliveIdle);
        }
    }
    for (std::size_t i = 0; i < framed->pings; ++i) {
        ++counters_.pingsAnswered;
        if (!writePlain(kPong)) return;
    }
    for (const auto& message : framed->messages) {
        ++counters_.messagesIn;
        listener_.onConnectionMessage(*this, message.raw());
        // The handler may have closed this flow.
        if (state_ == State::Closed) return;
    }
    if (framer_.buffered() == 0) {
        partialSinceMs_ = 0;
    } else if (partialSinceMs_ == 0) {
        partialSinceMs_ = nowMs();
        // The keep-alive timer doubles as the stall deadline (not while a pong is due: that
        // deadline is shorter and its own).
        if (keepaliveState_ == KeepaliveState::Waiting) armKeepalive(settings_.stalledMessageTimeout);
    }
}

void StreamConnection::startKeepalive() {
    if (settings_.keepaliveIdle.count() <= 0) return;
    if (uv_timer_init(loop_, keepaliveTimer_.get()) != 0) return;  // runs without keep-alive
    keepaliveTimer_.get()->data = this;
    keepaliveState_ = KeepaliveState::Waiting;
    armKeepalive(settings_.keepaliveIdle);
}

void StreamConnection::armKeepalive(Duration delay) {
    if (!keepaliveTimer_.initialised()) return;
    uv_timer_start(keepaliveTimer_.get(), &StreamConnection::onKeepaliveTimerCb, toTimerMs(delay), 0);
}

void StreamConnection::onKeepaliveTimerCb(uv_timer_t* t) noexcept {
    auto* self = ownerOf<StreamConnection>(t);
    if (self == nullptr) return;
    guardCallback("stream.keepalive", [&] { self->onKeepaliveTimer(); });
}

void StreamConnection::onKeepaliveTimer() {
    if (state_ != State::Ready) return;
    if (keepaliveState_ == KeepaliveState::AwaitingPong) {
        ++counters_.keepaliveFailures;
        fail("no keep-alive pong from " + target_.remote.toString() + " within " +
                 formatDuration(settings_.pongTimeout),
             "no keep-alive pong");
        return;
    }
    const uint64_t stallLimit = toTimerMs(settings_.stalledMessageTimeout);
    const uint64_t partialFor = partialSinceMs_ == 0 ? 0 : nowMs() - partialSinceMs_;
    if (partialSinceMs_ != 0 && partialFor >= stallLimit) {
        ++counters_.stalledMessages;
        fail("connection to " + target_.remote.toString() + " timed out: a message began " +
                 formatDuration(Duration{static_cast<int64_t>(partialFor)}) + " ago and is still incomplete (" +
                 std::to_string(framer_.buffered()) + " bytes)",
             "stalled message");
        return;
    }
    // The timer is armed once per idle period instead of on every read; catch up here.
    const uint64_t idle = toTimerMs(settings_.keepaliveIdle);
    const uint64_t quiet = nowMs() - lastReceiveMs_;
    if (quiet < idle) {
        uint64_t next = idle - quiet;
        if (partialSinceMs_ != 0) next = std::min(next, stallLimit - partialFor);
        armKeepalive(Duration{static_cast<int64_t>(next)});
        return;
    }
    ++counters_.pingsSent;
    keepaliveState_ = KeepaliveState::AwaitingPong;
    armKeepalive(settings_.pongTimeout);
    writePlain(kPing);
}

Result<void> StreamConnection::send(std::string_view bytes) {
    if (state_ == State::Closed || state_ == State::Idle) {
        return makeError("send on flow " + std::to_string(flow_) + " to " + target_.remote.toString() +
                         ": the flow is closed");
    }
    if (queuedBytes() + bytes.size() > settings_.maxQueuedBytes) {
        ++counters_.sendsOverLimit;
        return makeError("send on flow " + std::to_string(flow_) + " to " + target_.remote.toString() + ": " +
                         std::to_string(queuedBytes()) + " bytes already queued, " + std::to_string(bytes.size()) +
                         " more would pass the limit of " + std::to_string(settings_.maxQueuedBytes));
    }
    if (state_ != State::Ready) {
        pendingPlain_.append(bytes);
        return {};
    }
    if (!writePlain(bytes)) {
        return makeError("send on flow " + std::to_string(flow_) + " to " + target_.remote.toString() +
                         ": the write failed and the flow was closed");
    }
    return {};
}

bool StreamConnection::writePlain(std::string_view bytes) {
    if (!tls_) return writeRaw(bytes);
    auto written = tls_->write(bytes);
    if (!written) {
        ++counters_.tlsFailures;
        fail("TLS error on connection to " + target_.remote.toString() + ": " + written.error().message,
             written.error().message);
        return false;
    }
    return flushTlsOutput();
}

bool StreamConnection::flushTlsOutput() {
    if (!tls_ || !tls_->hasOutput()) return state_ != State::Closed;
    return writeRaw(tls_->takeOutput());
}

bool StreamConnection::writeRaw(std::string_view bytes) {
    if (state_ == State::Closed) return false;
    if (bytes.empty()) return true;
    auto* stream = reinterpret_cast<uv_stream_t*>(socket_.get());
    std::size_t done = 0;
    // Nothing in flight: try the kernel directly and queue only what it would not take.
    if (writesInFlight_ == 0) {
        uv_buf_t buf = uv_buf_init(const_cast<char*>(bytes.data()), static_cast<unsigned>(bytes.size()));
        const int rc = uv_try_write(stream, &buf, 1);
        if (rc >= 0) {
            done = static_cast<std::size_t>(rc);
        } else if (rc != UV_EAGAIN) {
            ++counters_.writeErrors;
            fail(describeUvError("write to " + target_.remote.toString(), rc), uv_strerror(rc));
            return false;
        }
    }
    counters_.bytesOut += done;
    if (done == bytes.size()) return true;

    auto request = std::make_unique<WriteRequest>();
    request->req.data = request.get();
    request->bytes.assign(bytes.substr(done));
    uv_buf_t buf = uv_buf_init(request->bytes.data(), static_cast<unsigned>(request->bytes.size()));
    const int rc = uv_write(&request->req, stream, &buf, 1, &StreamConnection::onWriteCb);
    if (rc != 0) {
        ++counters_.writeErrors;
        fail(describeUvError("write to " + target_.remote.toString(), rc), uv_strerror(rc));
        return false;
    }
    writeQueueBytes_ += request->bytes.size();
    ++writesInFlight_;
    request.release();  // freed by onWriteCb, which libuv always calls
    return true;
}

void StreamConnection::onWriteCb(uv_write_t* raw, int status) noexcept {
    std::unique_ptr<WriteRequest> request(static_cast<WriteRequest*>(raw->data));
    auto* self = ownerOf<StreamConnection>(raw->handle);
    if (self == nullptr) return;
    guardCallback("stream.write", [&] { self->onWritten(request->bytes.size(), status); });
}

void StreamConnection::onWritten(std::size_t length, int status) {
    writeQueueBytes_ -= length;
    --writesInFlight_;
    if (status == 0) {
        counters_.bytesOut += length;
        return;
    }
    if (state_ == State::Closed) return;
    ++counters_.writeErrors;
    fail(describeUvError("write to " + target_.remote.toString(), status), uv_strerror(status));
}

void StreamConnection::startLinger(Duration delay) {
    if (state_ == State::Closed) return;
    if (!lingerTimer_.initialised()) {
        if (uv_timer_init(loop_, lingerTimer_.get()) != 0) return;  // the flow then stays open
        lingerTimer_.get()->data = this;
    }
    uv_timer_start(lingerTimer_.get(), &StreamConnection::onLingerTimerCb, toTimerMs(delay), 0);
}

void StreamConnection::cancelLinger() noexcept {
    if (lingerTimer_.initialised()) uv_timer_stop(lingerTimer_.get());
}

void StreamConnection::onLingerTimerCb(uv_timer_t* t) noexcept {
    auto* self = ownerOf<StreamConnection>(t);
    if (self == nullptr) return;
    guardCallback("stream.linger", [&] {
        self->close("flow to " + self->target_.remote.toString() + " unused for " +
                    formatDuration(self->settings_.unusedLinger));
    });
}

void StreamConnection::close(const std::string& reason) {
    if (state_ == State::Closed) return;
    if (tls_ && state_ == State::Ready && socket_.initialised()) {
        // Best effort: whatever the kernel takes now; the socket closes right after.
        tls_->shutdown();
        if (tls_->hasOutput()) {
            const std::string notify = tls_->takeOutput();
            uv_buf_t buf = uv_buf_init(const_cast<char*>(notify.data()), static_cast<unsigned>(notify.size()));
            if (writesInFlight_ == 0) uv_try_write(reinterpret_cast<uv_stream_t*>(socket_.get()), &buf, 1);
        }
    }
    fail(reason, "closed locally");
}

void StreamConnection::fail(const std::string& reason, const std::string& cause) {
    if (state_ == State::Closed) return;
    state_ = State::Closed;
    releaseHandles();
    pendingPlain_.clear();
    listener_.onConnectionClosed(*this, reason, cause);
}

}  // namespace sipreg::net
