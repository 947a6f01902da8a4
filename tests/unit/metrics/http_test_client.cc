#include "http_test_client.h"

#include <strings.h>

namespace sipreg::metrics::test {
namespace {

// Requests live on the heap until their callback, which may come after the client is gone.
struct WriteJob {
    uv_write_t req{};
    std::string bytes;
};

}  // namespace

HttpTestClient::HttpTestClient(uv_loop_t* loop, const net::SocketAddress& server) : server_(server) {
    uv_tcp_init(loop, tcp_.get());
    tcp_.get()->data = this;
}

void HttpTestClient::start(std::string request) {
    request_ = std::move(request);
    auto* req = new uv_connect_t{};
    const int rc = uv_tcp_connect(req, tcp_.get(), server_.sockaddrPtr(), &HttpTestClient::onConnect);
    if (rc != 0) {
        delete req;
        error_ = rc;
        done_ = true;
    }
}

void HttpTestClient::onConnect(uv_connect_t* req, int status) noexcept {
    auto* self = net::ownerOf<HttpTestClient>(req->handle);
    delete req;
    if (self == nullptr) return;
    if (status < 0) {
        self->error_ = status;
        self->done_ = true;
        return;
    }
    auto* stream = reinterpret_cast<uv_stream_t*>(self->tcp_.get());
    uv_read_start(
        stream,
        [](uv_handle_t* h, std::size_t, uv_buf_t* buf) {
            auto* c = net::ownerOf<HttpTestClient>(h);
            *buf = c == nullptr ? uv_buf_init(nullptr, 0) : uv_buf_init(c->buffer_, sizeof c->buffer_);
        },
        &HttpTestClient::onRead);
    if (self->request_.empty()) return;
    auto* job = new WriteJob{};
    job->bytes = self->request_;
    job->req.data = job;
    uv_buf_t buf = uv_buf_init(job->bytes.data(), static_cast<unsigned>(job->bytes.size()));
    if (uv_write(&job->req, stream, &buf, 1, &HttpTestClient::onWrite) != 0) delete job;
}

void HttpTestClient::onWrite(uv_write_t* req, int) noexcept {
    // A server that answers early (431) may refuse the rest of a long write; the reading
    // side reports what the test cares about.
    delete static_cast<WriteJob*>(req->data);
}

void HttpTestClient::onRead(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) noexcept {
    auto* self = net::ownerOf<HttpTestClient>(s);
    if (self == nullptr) return;
    if (nread > 0) {
        self->response_.append(buf->base, static_cast<std::size_t>(nread));
        return;
    }
    if (nread < 0) {
        if (nread != UV_EOF) self->error_ = static_cast<int>(nread);
        self->done_ = true;
        uv_read_stop(s);
        // Closing answers the server's FIN, which ends its lingering wait.
        self->tcp_.reset();
    }
}

int HttpTestClient::status() const {
    if (response_.rfind("HTTP/1.1 ", 0) != 0 || response_.size() < 12) return 0;
    return std::stoi(response_.substr(9, 3));
}

std::string HttpTestClient::header(std::string_view name) const {
    const auto end = response_.find("\r\n\r\n");
    std::size_t pos = response_.find("\r\n");
    while (pos != std::string::npos && pos < end) {
        const std::size_t start = pos + 2;
        const std::size_t next = response_.find("\r\n", start);
        const std::string line = response_.substr(start, next - start);
        const auto colon = line.find(':');
        if (colon == name.size() && strncasecmp(line.data(), name.data(), name.size()) == 0) {
            return line.substr(line.find_first_not_of(' ', colon + 1));
        }
        pos = next;
    }
    return {};
}

std::string HttpTestClient::body() const {
    const auto end = response_.find("\r\n\r\n");
    return end == std::string::npos ? std::string() : response_.substr(end + 4);
}

bool runUntil(uv_loop_t* loop, const std::function<bool()>& finished, std::chrono::milliseconds limit) {
    net::UvHandle<uv_timer_t> guard;
    bool expired = false;
    uv_timer_init(loop, guard.get());
    guard.get()->data = &expired;
    uv_timer_start(
        guard.get(), [](uv_timer_t* t) { *static_cast<bool*>(t->data) = true; },
        static_cast<uint64_t>(limit.count()), 0);
    while (!finished() && !expired) uv_run(loop, UV_RUN_ONCE);
    return finished();
}

}  // namespace sipreg::metrics::test
