#include "control/control_server.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "control/command_handler.h"
#include "control/json_text.h"
#include "control/status_json.h"

namespace sipreg::control {
namespace {

constexpr int kListenBacklog = 32;
constexpr std::size_t kReadChunk = 64 * 1024;

std::string uvText(int rc) { return uv_strerror(rc); }

double wallNow() {
    using namespace std::chrono;
    return static_cast<double>(duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count()) / 1000.0;
}

}  // namespace

struct ControlServer::Client {
    Client(ControlServer& owner, std::size_t maxLine) : server(owner), input(maxLine) {}
    ControlServer& server;
    net::UvHandle<uv_pipe_t> pipe;
    LineBuffer input;
    std::size_t queued = 0;         // bytes handed to uv_write and not completed
    uint64_t lastActivityMs = 0;
    bool tracing = false;
    std::optional<std::string> traceLine;
    bool closing = false;           // close once everything queued is written
    bool dead = false;              // handles released; freed by reap()
};

struct ControlServer::WriteRequest {
    uv_write_t req{};
    std::string data;
};

ControlServer::ControlServer(uv_loop_t* loop, Backend& backend, std::shared_ptr<spdlog::logger> log)
    : loop_(loop), backend_(backend), log_(std::move(log)), readBuffer_(kReadChunk) {
    if (!log_) log_ = spdlog::default_logger();
}

ControlServer::~ControlServer() { close(); }

Result<void> ControlServer::start(ServerSettings settings) {
    close();
    settings_ = std::move(settings);
    const std::string& path = settings_.path;
    if (auto p = checkSocketPath(path); !p) return p.error();
    if (auto c = clearStaleSocket(path); !c) return c.error();

    if (int rc = uv_pipe_init(loop_, listener_.get(), 0); rc != 0) {
        listener_.reset();
        return makeError("control socket: " + uvText(rc));
    }
    listener_.get()->data = this;
    // The socket file takes its permissions from the umask at bind time; narrow it so the
    // file is never more open than `mode`, even for the moment before chmod.
    const mode_t previous = ::umask(static_cast<mode_t>(~settings_.mode & 0777));
    const int bound = uv_pipe_bind(listener_.get(), path.c_str());
    ::umask(previous);
    if (bound != 0) {
        listener_.reset();
        listener_ = net::UvHandle<uv_pipe_t>();
        // libuv reports a missing folder as EACCES; say what is really wrong.
        const std::string folder = path.find('/') == std::string::npos ? "." : path.substr(0, path.rfind('/'));
        struct stat st{};
        if (!folder.empty() && ::stat(folder.c_str(), &st) != 0 && errno == ENOENT) {
            return makeError("cannot create the control socket " + path + ": the folder " + folder +
                             " does not exist (create it, or set control.socket)");
        }
        return makeError("cannot create the control socket " + path + ": " + uvText(bound));
    }
    socketFile_ = identify(path);
    auto fail = [&](std::string message) -> Result<void> {
        close();
        return makeError(std::move(message));
    };
    if (::chmod(path.c_str(), static_cast<mode_t>(settings_.mode)) != 0) {
        return fail("cannot set the mode of " + path + ": " + std::strerror(errno));
    }
    if (int rc = uv_listen(reinterpret_cast<uv_stream_t*>(listener_.get()), kListenBacklog, &onConnectionCb); rc != 0) {
        return fail("cannot listen on " + path + ": " + uvText(rc));
    }

    if (int rc = uv_timer_init(loop_, reapTimer_.get()); rc != 0) return fail("control timer: " + uvText(rc));
    reapTimer_.get()->data = this;
    if (int rc = uv_timer_init(loop_, sweepTimer_.get()); rc != 0) return fail("control timer: " + uvText(rc));
    sweepTimer_.get()->data = this;
    const auto period = static_cast<uint64_t>(std::max<int64_t>(settings_.idleTimeout.count() / 4, 100));
    uv_timer_start(sweepTimer_.get(), &onSweepCb, period, period);
    // The sweep alone must never keep a loop alive.
    uv_unref(sweepTimer_.base());
    return {};
}

void ControlServer::close() {
    const bool wasOpen = listener_.initialised() || !clients_.empty();
    listener_.reset();
    listener_ = net::UvHandle<uv_pipe_t>();
    for (auto& c : clients_) drop(*c);
    clients_.clear();
    reapTimer_.reset();
    reapTimer_ = net::UvHandle<uv_timer_t>();
    sweepTimer_.reset();
    sweepTimer_ = net::UvHandle<uv_timer_t>();
    removeIfSame(settings_.path, socketFile_);
    socketFile_ = {};
    tracing_ = 0;
    if (wasOpen) updateTraceActivation();
}

std::size_t ControlServer::clientCount() const noexcept {
    return static_cast<std::size_t>(
        std::count_if(clients_.begin(), clients_.end(), [](const auto& c) { return !c->dead; }));
}

void ControlServer::onConnection(int status) {
    if (status < 0) {
        log_->warn("control: accept failed: {}", uvText(status));
        return;
    }
    auto client = std::make_unique<Client>(*this, settings_.maxRequestBytes);
    if (int rc = uv_pipe_init(loop_, client->pipe.get(), 0); rc != 0) {
        log_->warn("control: {}", uvText(rc));
        return;
    }
    client->pipe.get()->data = client.get();
    if (int rc = uv_accept(reinterpret_cast<uv_stream_t*>(listener_.get()),
                           reinterpret_cast<uv_stream_t*>(client->pipe.get()));
        rc != 0) {
        log_->warn("control: accept failed: {}", uvText(rc));
        return;  // the handle closes with `client`
    }
    client->lastActivityMs = uv_now(loop_);
    const bool full = clientCount() >= settings_.maxClients;
    clients_.push_back(std::move(client));
    Client& c = *clients_.back();
    if (full) {
        log_->warn("control: more than {} clients; refusing one", settings_.maxClients);
        send(c, toLine(errorReply("too many control clients (at most " + std::to_string(settings_.maxClients) + ")")));
        closeAfterWrites(c);
        return;
    }
    if (int rc = uv_read_start(reinterpret_cast<uv_stream_t*>(c.pipe.get()), &onAllocCb, &onReadCb); rc != 0) {
        log_->warn("control: cannot read from a client: {}", uvText(rc));
        drop(c);
    }
}

void ControlServer::onRead(Client& c, ssize_t nread, const uv_buf_t* buf) {
    if (c.dead) return;
    if (nread < 0) {
        // A request client that half-closed still gets its replies; a trace reader that
        // went away is done.
        if (nread == UV_EOF && !c.tracing) {
            closeAfterWrites(c);
        } else {
            drop(c);
        }
        return;
    }
    if (nread == 0) return;
    c.lastActivityMs = uv_now(loop_);
    if (c.tracing || c.closing) return;  // a trace stream takes no more requests
    std::vector<std::string> lines;
    const bool fits = c.input.feed(std::string_view(buf->base, static_cast<std::size_t>(nread)), lines);
    for (const auto& line : lines) {
        if (c.dead || c.closing || c.tracing) break;
        if (line.find_first_not_of(" \t") == std::string::npos) continue;
        handleLine(c, line);
    }
    if (!fits && !c.dead && !c.closing) {
        send(c, toLine(errorReply("request longer than " + std::to_string(settings_.maxRequestBytes) +
                                  " bytes; closing the connection")));
        closeAfterWrites(c);
    }
}

void ControlServer::handleLine(Client& c, const std::string& line) {
    Reply reply = handleRequest(line, backend_);
    if (!send(c, std::move(reply.line))) return;
    if (reply.startTrace) {
        c.tracing = true;
        c.traceLine = std::move(reply.traceLine);
        ++tracing_;
        updateTraceActivation();
    }
}

bool ControlServer::send(Client& c, std::string bytes) {
    if (c.dead) return false;
    auto w = std::make_unique<WriteRequest>();
    w->data = std::move(bytes);
    w->req.data = w.get();
    uv_buf_t buf = uv_buf_init(w->data.data(), static_cast<unsigned int>(w->data.size()));
    const std::size_t size = w->data.size();
    if (int rc = uv_write(&w->req, reinterpret_cast<uv_stream_t*>(c.pipe.get()), &buf, 1, &onWriteCb); rc != 0) {
        drop(c);
        return false;
    }
    c.queued += size;
    w.release();  // owned by the loop until onWriteCb
    return true;
}

void ControlServer::onWritten(Client& c, std::size_t bytes, int status) {
    c.queued -= std::min(bytes, c.queued);
    if (c.dead) return;
    c.lastActivityMs = uv_now(loop_);
    if (status < 0) {
        drop(c);
    } else if (c.closing && c.queued == 0) {
        drop(c);
    }
}

void ControlServer::closeAfterWrites(Client& c) {
    if (c.dead) return;
    c.closing = true;
    uv_read_stop(reinterpret_cast<uv_stream_t*>(c.pipe.get()));
    if (c.queued == 0) drop(c);
}

void ControlServer::drop(Client& c) {
    if (c.dead) return;
    c.dead = true;
    if (c.tracing) --tracing_;
    c.pipe.reset();
    scheduleReap();
}

void ControlServer::scheduleReap() {
    if (reapTimer_.initialised() && !uv_is_active(reapTimer_.base())) uv_timer_start(reapTimer_.get(), &onReapCb, 0, 0);
}

void ControlServer::reap() {
    std::erase_if(clients_, [](const auto& c) { return c->dead; });
    updateTraceActivation();
}

void ControlServer::sweepIdle() {
    const uint64_t now = uv_now(loop_);
    const auto limit = static_cast<uint64_t>(settings_.idleTimeout.count());
    for (auto& c : clients_) {
        if (!c->dead && !c->tracing && now - c->lastActivityMs >= limit) {
            log_->debug("control: closing a client idle for {} ms", now - c->lastActivityMs);
            drop(*c);
        }
    }
}

void ControlServer::updateTraceActivation() {
    const bool want = tracing_ > 0;
    if (want == traceActive_) return;
    traceActive_ = want;
    if (traceActivation_) traceActivation_(want);
}

void ControlServer::publishTrace(const app::TraceEvent& event) {
    if (tracing_ == 0) return;
    std::string text;
    for (auto& c : clients_) {
        if (c->dead || !c->tracing) continue;
        if (c->traceLine && *c->traceLine != event.lineId) continue;
        if (text.empty()) text = toLine(encodeTrace(event, wallNow()));
        if (c->queued + text.size() > settings_.maxTraceBacklog) {
            log_->warn("control: a trace reader fell {} bytes behind; disconnecting it", c->queued);
            drop(*c);
            continue;
        }
        send(*c, text);
    }
}

void ControlServer::onConnectionCb(uv_stream_t* server, int status) noexcept {
    net::guardCallback("control.accept", [&] {
        if (auto* self = net::ownerOf<ControlServer>(server)) self->onConnection(status);
    });
}

void ControlServer::onAllocCb(uv_handle_t* h, size_t, uv_buf_t* buf) noexcept {
    auto* c = static_cast<Client*>(h->data);
    if (c == nullptr) {
        *buf = uv_buf_init(nullptr, 0);
        return;
    }
    std::vector<char>& shared = c->server.readBuffer_;
    *buf = uv_buf_init(shared.data(), static_cast<unsigned int>(shared.size()));
}

void ControlServer::onReadCb(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) noexcept {
    net::guardCallback("control.read", [&] {
        if (auto* c = net::ownerOf<Client>(s)) c->server.onRead(*c, nread, buf);
    });
}

void ControlServer::onWriteCb(uv_write_t* req, int status) noexcept {
    std::unique_ptr<WriteRequest> w(static_cast<WriteRequest*>(req->data));
    net::guardCallback("control.write", [&] {
        if (auto* c = net::ownerOf<Client>(req->handle)) c->server.onWritten(*c, w->data.size(), status);
    });
}

void ControlServer::onReapCb(uv_timer_t* t) noexcept {
    net::guardCallback("control.reap", [&] {
        if (auto* self = net::ownerOf<ControlServer>(t)) self->reap();
    });
}

void ControlServer::onSweepCb(uv_timer_t* t) noexcept {
    net::guardCallback("control.sweep", [&] {
        if (auto* self = net::ownerOf<ControlServer>(t)) self->sweepIdle();
    });
}

}  // namespace sipreg::control
