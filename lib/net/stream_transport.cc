#include "net/stream_transport.h"

#include <algorithm>
#include <cstdio>
#include <utility>

#include "net/stream_format.h"
#include "net/transport_error.h"

namespace sipreg::net {
namespace {

uint64_t toMs(Duration d) noexcept { return d.count() <= 0 ? 0 : static_cast<uint64_t>(d.count()); }

// Backoff entries of targets nobody has tried for a while are forgotten past this many.
constexpr std::size_t kBackoffPruneThreshold = 1024;

}  // namespace

StreamTransport::StreamTransport(uv_loop_t* loop, StreamSettings settings, MessageHandler onMessage,
                                 FlowHandler onFlow)
    : loop_(loop),
      settings_(settings),
      onMessage_(std::move(onMessage)),
      onFlow_(std::move(onFlow)),
      readBuffer_(std::make_unique<char[]>(kReadBufferSize)) {
    if (settings_.reconnectBackoffMax < settings_.reconnectBackoffMin) {
        settings_.reconnectBackoffMax = settings_.reconnectBackoffMin;
    }
}

StreamTransport::~StreamTransport() {
    *alive_ = false;
    dispatchTimer_.reset();
    // Connections release their handles silently when destroyed: no events from here.
    flows_.clear();
}

std::string StreamTransport::keyOf(const StreamTarget& target) {
    std::string key = target.kind == txn::TransportKind::Tls ? "tls|" : "tcp|";
    key += target.remote.toString();
    if (target.kind == txn::TransportKind::Tls) {
        char context[2 + 2 * sizeof(void*) + 1];
        std::snprintf(context, sizeof context, "%p", static_cast<const void*>(target.tls.get()));
        key += '|';
        key += target.serverName;
        key += target.verify ? "|v1|" : "|v0|";
        key += context;
    }
    return key;
}

StreamTransport::Flow* StreamTransport::liveFlow(uint64_t flow) {
    auto it = flows_.find(flow);
    return it == flows_.end() || it->second.closed ? nullptr : &it->second;
}

const StreamTransport::Flow* StreamTransport::liveFlow(uint64_t flow) const {
    auto it = flows_.find(flow);
    return it == flows_.end() || it->second.closed ? nullptr : &it->second;
}

Result<uint64_t> StreamTransport::open(const StreamTarget& target) {
    std::string key = keyOf(target);
    if (auto it = byKey_.find(key); it != byKey_.end()) {
        Flow& existing = flows_.at(it->second);
        if (existing.references++ == 0) existing.connection->cancelLinger();
        return it->second;
    }

    const uint64_t now = uv_now(loop_);
    if (auto it = backoff_.find(key); it != backoff_.end() && now < it->second.retryAtMs) {
        ++counters_.connectsRefusedByBackoff;
        const Backoff& b = it->second;
        return makeError("connect to " + target.remote.toString() + " failed " +
                         formatDuration(Duration{static_cast<int64_t>(now - b.failedAtMs)}) + " ago (" + b.cause +
                         "); next try in " + formatDuration(Duration{static_cast<int64_t>(b.retryAtMs - now)}));
    }

    const uint64_t id = nextFlow_++;
    StreamConnection::Listener& listener = *this;  // the base is private: convert here
    auto connection = std::make_unique<StreamConnection>(loop_, id, target, settings_, counters_, listener,
                                                         readBuffer_.get(), kReadBufferSize);
    auto started = connection->connect();
    if (!started) {
        ++counters_.connectFailures;
        recordConnectFailure(key, started.error().message);
        return started.error();
    }
    Flow flow;
    flow.connection = std::move(connection);
    flow.key = key;
    flow.references = 1;
    flows_.emplace(id, std::move(flow));
    byKey_.emplace(std::move(key), id);
    return id;
}

Result<void> StreamTransport::send(uint64_t flow, std::string_view bytes) {
    Flow* f = liveFlow(flow);
    if (f == nullptr) return makeError("send on flow " + std::to_string(flow) + ": no such open flow");
    return f->connection->send(bytes);
}

std::optional<StreamTransport::FlowInfo> StreamTransport::info(uint64_t flow) const {
    const Flow* f = liveFlow(flow);
    if (f == nullptr) return std::nullopt;
    FlowInfo info;
    info.connected = f->connection->ready();
    info.local = f->connection->local();
    info.remote = f->connection->remote();
    info.kind = f->connection->target().kind;
    return info;
}

void StreamTransport::acquire(uint64_t flow) {
    Flow* f = liveFlow(flow);
    if (f == nullptr) return;
    if (f->references++ == 0) f->connection->cancelLinger();
}

void StreamTransport::release(uint64_t flow) {
    Flow* f = liveFlow(flow);
    if (f == nullptr || f->references == 0) return;
    if (--f->references == 0) f->connection->startLinger(settings_.unusedLinger);
}

void StreamTransport::closeAll() {
    std::vector<uint64_t> open;
    open.reserve(byKey_.size());
    for (const auto& [key, id] : byKey_) open.push_back(id);
    std::sort(open.begin(), open.end());
    for (uint64_t id : open) {
        if (Flow* f = liveFlow(id)) f->connection->close("transport closed");
    }
}

void StreamTransport::onConnectionReady(StreamConnection& connection) {
    Flow* f = liveFlow(connection.flow());
    if (f == nullptr) return;
    f->connectedReported = true;
    backoff_.erase(f->key);
    if (!onFlow_) return;
    FlowEvent event;
    event.kind = FlowEvent::Kind::Connected;
    event.flow = connection.flow();
    event.local = connection.local();
    event.remote = connection.remote();
    onFlow_(event);
}

void StreamTransport::onConnectionMessage(StreamConnection& connection, std::string_view message) {
    if (onMessage_) onMessage_(connection.flow(), message, connection.remote());
}

void StreamTransport::onConnectionClosed(StreamConnection& connection, const std::string& reason,
                                         const std::string& cause) {
    auto it = flows_.find(connection.flow());
    if (it == flows_.end() || it->second.closed) return;
    Flow& f = it->second;
    f.closed = true;
    ++counters_.closed;
    if (auto k = byKey_.find(f.key); k != byKey_.end() && k->second == connection.flow()) byKey_.erase(k);
    if (!f.connectedReported) {
        ++counters_.connectFailures;
        recordConnectFailure(f.key, cause);
    }
    FlowEvent event;
    event.kind = FlowEvent::Kind::Closed;
    event.flow = connection.flow();
    event.local = connection.local();
    event.remote = connection.remote();
    event.reason = reason;
    event.wasConnected = f.connectedReported;
    pendingClosed_.push_back(std::move(event));
    scheduleDispatch();
}

void StreamTransport::recordConnectFailure(const std::string& key, const std::string& cause) {
    const uint64_t now = uv_now(loop_);
    pruneBackoff(now);
    Backoff& b = backoff_[key];
    const uint64_t minMs = std::max<uint64_t>(toMs(settings_.reconnectBackoffMin), 1);
    const uint64_t maxMs = std::max(minMs, toMs(settings_.reconnectBackoffMax));
    b.delayMs = b.delayMs == 0 ? minMs : std::min(maxMs, b.delayMs * 2);
    b.failedAtMs = now;
    b.retryAtMs = now + b.delayMs;
    b.cause = cause;
}

void StreamTransport::pruneBackoff(uint64_t nowMs) {
    if (backoff_.size() < kBackoffPruneThreshold) return;
    // A target quiet for longer than the longest wait starts over from the minimum.
    const uint64_t forgetAfter = toMs(settings_.reconnectBackoffMax);
    std::erase_if(backoff_, [&](const auto& entry) { return entry.second.retryAtMs + forgetAfter < nowMs; });
}

void StreamTransport::scheduleDispatch() {
    if (!dispatchTimer_.initialised()) {
        if (uv_timer_init(loop_, dispatchTimer_.get()) != 0) return;
        dispatchTimer_.get()->data = this;
    }
    if (uv_is_active(dispatchTimer_.base()) == 0) {
        uv_timer_start(dispatchTimer_.get(), &StreamTransport::onDispatchCb, 0, 0);
    }
}

void StreamTransport::onDispatchCb(uv_timer_t* t) noexcept {
    auto* self = ownerOf<StreamTransport>(t);
    if (self == nullptr) return;
    guardCallback("stream.dispatch", [&] { self->dispatch(); });
}

void StreamTransport::dispatch() {
    std::vector<FlowEvent> events = std::exchange(pendingClosed_, {});
    // The connections are no longer on any stack: free them before telling anyone.
    for (const auto& event : events) flows_.erase(event.flow);
    const std::shared_ptr<bool> alive = alive_;
    const FlowHandler handler = onFlow_;  // survives a handler that destroys the transport
    for (const auto& event : events) {
        if (!handler) break;
        handler(event);
        if (!*alive) return;  // the handler destroyed the transport
    }
}

}  // namespace sipreg::net
