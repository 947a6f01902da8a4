#include "metrics/http_server.h"

#include <utility>

#include "metrics/http_connection.h"

namespace sipreg::metrics {
namespace {

constexpr int kBacklog = 64;

Error listenError(const net::SocketAddress& address, int code) {
    return makeError("cannot listen on tcp " + address.toString() + ": " + uv_strerror(code));
}

}  // namespace

HttpServer::HttpServer(uv_loop_t* loop, HttpPageSource source, HttpServerSettings settings)
    : loop_(loop), source_(std::move(source)), settings_(settings) {}

HttpServer::~HttpServer() { close(); }

Result<net::SocketAddress> HttpServer::listen(const net::SocketAddress& address) {
    if (listener_.initialised()) return makeError("http server: already listening");
    if (!listener_) listener_ = net::UvHandle<uv_tcp_t>();
    if (int rc = uv_tcp_init(loop_, listener_.get()); rc != 0) return listenError(address, rc);
    listener_.get()->data = this;
    int rc = uv_tcp_bind(listener_.get(), address.sockaddrPtr(), 0);
    if (rc == 0) rc = uv_listen(reinterpret_cast<uv_stream_t*>(listener_.get()), kBacklog, &HttpServer::onConnection);
    if (rc != 0) {
        listener_.reset();
        return listenError(address, rc);
    }
    sockaddr_storage bound{};
    int length = sizeof bound;
    if (uv_tcp_getsockname(listener_.get(), reinterpret_cast<sockaddr*>(&bound), &length) != 0) return address;
    return net::SocketAddress::fromSockaddr(reinterpret_cast<const sockaddr*>(&bound));
}

void HttpServer::close() noexcept {
    listener_.reset();
    connections_.clear();
}

void HttpServer::onConnection(uv_stream_t* server, int status) noexcept {
    auto* self = net::ownerOf<HttpServer>(server);
    if (self == nullptr || status < 0) return;
    net::guardCallback("http accept", [&] { self->accept(); });
}

void HttpServer::accept() {
    net::UvHandle<uv_tcp_t> tcp;
    if (uv_tcp_init(loop_, tcp.get()) != 0) return;
    if (uv_accept(reinterpret_cast<uv_stream_t*>(listener_.get()), reinterpret_cast<uv_stream_t*>(tcp.get())) != 0) {
        return;
    }
    // Over the cap the connection is closed at once (its handle goes with `tcp`).
    if (connections_.size() >= settings_.maxConnections) return;
    auto c = std::make_unique<HttpConnection>(std::move(tcp), source_, settings_,
                                              [this](HttpConnection* done) { finished(done); });
    if (!c->start(loop_)) return;
    HttpConnection* key = c.get();
    connections_.emplace(key, std::move(c));
}

void HttpServer::finished(HttpConnection* c) noexcept {
    auto it = connections_.find(c);
    if (it == connections_.end()) return;
    if (it->second->answered()) ++served_;
    connections_.erase(it);
}

}  // namespace sipreg::metrics
