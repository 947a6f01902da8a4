#include "metrics/http_connection.h"

#include <algorithm>
#include <utility>

#include "metrics/http_response.h"

namespace sipreg::metrics {
namespace {

// A response in flight: libuv needs the request and the bytes until the write callback,
// which may come after the connection itself is gone (cancelled by the close).
struct WriteJob {
    uv_write_t req{};
    std::string head;
    std::string body;
};

http_parser_settings makeParserSettings(http_data_cb onUrl, http_cb onHeadersComplete) {
    http_parser_settings s;
    http_parser_settings_init(&s);
    s.on_url = onUrl;
    s.on_headers_complete = onHeadersComplete;
    return s;
}

}  // namespace

HttpConnection::HttpConnection(net::UvHandle<uv_tcp_t> tcp, const HttpPageSource& source,
                               const HttpServerSettings& settings, std::function<void(HttpConnection*)> done)
    : tcp_(std::move(tcp)), source_(source), settings_(settings), done_(std::move(done)) {
    http_parser_init(&parser_, HTTP_REQUEST);
    parser_.data = this;
}

HttpConnection::~HttpConnection() = default;

bool HttpConnection::start(uv_loop_t* loop) {
    tcp_.get()->data = this;
    if (uv_timer_init(loop, timer_.get()) != 0) return false;
    timer_.get()->data = this;
    if (uv_read_start(reinterpret_cast<uv_stream_t*>(tcp_.get()), &HttpConnection::onAlloc,
                      &HttpConnection::onRead) != 0) {
        return false;
    }
    armTimer(settings_.requestTimeout);
    return true;
}

void HttpConnection::armTimer(std::chrono::milliseconds after) {
    uv_timer_start(timer_.get(), &HttpConnection::onTimer, static_cast<uint64_t>(after.count()), 0);
}

void HttpConnection::onAlloc(uv_handle_t* h, std::size_t, uv_buf_t* buf) noexcept {
    auto* self = net::ownerOf<HttpConnection>(h);
    if (self == nullptr) {
        *buf = uv_buf_init(nullptr, 0);
        return;
    }
    *buf = uv_buf_init(self->buffer_, sizeof self->buffer_);
}

void HttpConnection::onRead(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) noexcept {
    auto* self = net::ownerOf<HttpConnection>(s);
    if (self == nullptr || nread == 0) return;
    net::guardCallback("http read", [&] {
        if (nread < 0) {
            // A client that half-closes after its request still reads the response.
            if (nread == UV_EOF && self->phase_ == Phase::Writing) {
                self->eofSeen_ = true;
                return;
            }
            self->finish();
            return;
        }
        if (self->phase_ != Phase::Reading) return;  // anything after the request is ignored
        self->consume(buf->base, static_cast<std::size_t>(nread));
    });
}

void HttpConnection::consume(const char* data, std::size_t length) {
    static const http_parser_settings kSettings =
        makeParserSettings(&HttpConnection::onUrl, &HttpConnection::onHeadersComplete);
    const std::size_t before = received_;
    received_ += length;
    const std::size_t parsed = http_parser_execute(&parser_, &kSettings, data, length);
    if (headComplete_) {
        // Paused in on_headers_complete, the parser reports the head's final line feed as
        // not yet parsed.
        const std::size_t headBytes = before + std::min(length, parsed + 1);
        if (headBytes > settings_.maxHeaderBytes) {
            answer(431);
        } else {
            answerRequest();
        }
        return;
    }
    if (HTTP_PARSER_ERRNO(&parser_) != HPE_OK) {
        answer(400);
    } else if (received_ > settings_.maxHeaderBytes) {
        answer(431);
    }
}

int HttpConnection::onUrl(http_parser* p, const char* at, std::size_t length) {
    static_cast<HttpConnection*>(p->data)->url_.append(at, length);
    return 0;
}

int HttpConnection::onHeadersComplete(http_parser* p) {
    // The head is all a GET needs: stop here, a body (or a pipelined request) is not read.
    static_cast<HttpConnection*>(p->data)->headComplete_ = true;
    http_parser_pause(p, 1);
    return 0;
}

void HttpConnection::answerRequest() {
    const auto method = static_cast<http_method>(parser_.method);
    if (method != HTTP_GET && method != HTTP_HEAD) {
        answer(405, "GET, HEAD");
        return;
    }
    http_parser_url url;
    http_parser_url_init(&url);
    if (http_parser_parse_url(url_.data(), url_.size(), 0, &url) != 0) {
        answer(400);
        return;
    }
    std::string_view path;
    if ((url.field_set & (1u << UF_PATH)) != 0) {
        path = std::string_view(url_).substr(url.field_data[UF_PATH].off, url.field_data[UF_PATH].len);
    }
    std::optional<HttpPage> page;
    try {
        page = source_(path);
    } catch (const std::exception&) {
        answer(500);
        return;
    }
    if (!page) {
        answer(404);
        return;
    }
    ResponseHead head;
    head.contentType = page->contentType;
    head.contentLength = page->body.size();
    std::string text = formatResponseHead(head);
    // HEAD gets the same head, Content-Length included, and no body.
    send(std::move(text), method == HTTP_HEAD ? std::string() : std::move(page->body));
}

void HttpConnection::answer(int status, std::string_view allow) {
    std::string body = std::to_string(status) + " " + std::string(reasonPhrase(status)) + "\n";
    ResponseHead head;
    head.status = status;
    head.contentLength = body.size();
    head.allow = allow;
    send(formatResponseHead(head), std::move(body));
}

void HttpConnection::send(std::string head, std::string body) {
    phase_ = Phase::Writing;
    auto* job = new WriteJob{};
    job->head = std::move(head);
    job->body = std::move(body);
    job->req.data = job;
    uv_buf_t bufs[2] = {uv_buf_init(job->head.data(), static_cast<unsigned>(job->head.size())),
                        uv_buf_init(job->body.data(), static_cast<unsigned>(job->body.size()))};
    const unsigned count = job->body.empty() ? 1 : 2;
    if (uv_write(&job->req, reinterpret_cast<uv_stream_t*>(tcp_.get()), bufs, count, &HttpConnection::onWritten) !=
        0) {
        delete job;
        finish();
        return;
    }
    armTimer(settings_.writeTimeout);
}

void HttpConnection::onWritten(uv_write_t* req, int status) noexcept {
    auto* job = static_cast<WriteJob*>(req->data);
    auto* self = net::ownerOf<HttpConnection>(req->handle);
    delete job;
    if (self == nullptr) return;
    net::guardCallback("http write", [&] { self->afterWrite(status); });
}

void HttpConnection::afterWrite(int status) {
    if (status < 0 || eofSeen_) {
        finish();
        return;
    }
    // Closing with unread client bytes would reset the connection and could destroy the
    // response in flight; send our FIN and wait (briefly) for the client's instead.
    phase_ = Phase::Lingering;
    auto* req = new uv_shutdown_t{};
    if (uv_shutdown(req, reinterpret_cast<uv_stream_t*>(tcp_.get()), &HttpConnection::onShutdown) != 0) {
        delete req;
        finish();
        return;
    }
    armTimer(settings_.lingerTimeout);
}

void HttpConnection::onShutdown(uv_shutdown_t* req, int status) noexcept {
    auto* self = net::ownerOf<HttpConnection>(req->handle);
    delete req;
    if (self == nullptr || status >= 0) return;
    net::guardCallback("http shutdown", [&] { self->finish(); });
}

void HttpConnection::onTimer(uv_timer_t* t) noexcept {
    auto* self = net::ownerOf<HttpConnection>(t);
    if (self == nullptr) return;
    net::guardCallback("http timer", [&] {
        if (self->phase_ == Phase::Reading && self->received_ > 0) {
            self->answer(408);
        } else {
            self->finish();
        }
    });
}

void HttpConnection::finish() noexcept {
    if (!done_) return;
    uv_read_stop(reinterpret_cast<uv_stream_t*>(tcp_.get()));
    uv_timer_stop(timer_.get());
    // `done` may destroy this object: it runs from a local copy, and nothing follows it.
    auto done = std::move(done_);
    done_ = nullptr;
    done(this);
}

}  // namespace sipreg::metrics
