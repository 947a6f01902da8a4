#pragma once
// TCP and TLS flows shared by every line: one connection per target (remote address,
// transport and, for TLS, server name, verification and context), many callers and many
// concurrent transactions on it. Callers hold flows by reference count; a flow nobody
// holds closes after a linger. Connect failures back off per target.
//
// Events: Connected when a flow becomes usable (after the TLS handshake), Closed exactly
// once per flow that open() returned, whatever closed it. Closed is always delivered from
// the loop, never from inside open(), send(), release() or closeAll(), so callers are
// never re-entered. Handlers may call any method. The transport may be destroyed from a
// Closed event's handler, but not from the message handler or a Connected event's handler
// (those run inside a connection's callback: call closeAll() there instead).
#include <uv.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "net/socket_address.h"
#include "net/stream_connection.h"
#include "net/stream_types.h"
#include "net/uv_handle.h"
#include "txn/txn_types.h"
#include "util/result.h"

namespace sipreg::net {

class StreamTransport final : private StreamConnection::Listener {
public:
    // One framed SIP message, its raw bytes valid during the call; `from` is the flow's peer.
    using MessageHandler = std::function<void(uint64_t flow, std::string_view message, const SocketAddress& from)>;

    struct FlowEvent {
        enum class Kind { Connected, Closed };
        Kind kind = Kind::Connected;
        uint64_t flow = 0;
        SocketAddress local;    // the connection's local address (unspecified if never connected)
        std::string reason;     // Closed: why, for logs
        bool wasConnected = false;  // Closed: the flow had been usable (else: connect failed)
        SocketAddress remote;
    };
    using FlowHandler = std::function<void(const FlowEvent&)>;

    struct FlowInfo {
        bool connected = false;
        SocketAddress local, remote;
        txn::TransportKind kind = txn::TransportKind::Tcp;
    };

    using Counters = StreamCounters;

    static constexpr std::size_t kReadBufferSize = 64 * 1024;

    StreamTransport(uv_loop_t* loop, StreamSettings settings, MessageHandler onMessage, FlowHandler onFlow);
    ~StreamTransport() override;
    StreamTransport(const StreamTransport&) = delete;
    StreamTransport& operator=(const StreamTransport&) = delete;

    // The shared flow for this target, connecting if there is none; takes one reference
    // (release() it when done). Fails at once, without a flow, while the target is in its
    // connect backoff: "connect to 192.0.2.1:5061 failed 3 s ago (connection refused);
    // next try in 5 s", or when the connect cannot even start.
    Result<uint64_t> open(const StreamTarget& target);

    // Queued in order while connecting. Errors: unknown or closed flow, the queue bound
    // (the flow stays open), a write failure (the flow closes; Closed follows later).
    Result<void> send(uint64_t flow, std::string_view bytes);

    // nullopt once the flow is closed (or for an unknown id).
    std::optional<FlowInfo> info(uint64_t flow) const;

    // Reference counting on open flows; unknown or closed ids are ignored. The last
    // release() starts the linger (StreamSettings::unusedLinger); acquire() cancels it.
    void acquire(uint64_t flow);
    void release(uint64_t flow);

    // Closes every flow; their Closed events follow from the loop.
    void closeAll();

    // The sharing key of a target ("tls|127.0.0.1:5061|sip.example.com|v1|0x...").
    static std::string keyOf(const StreamTarget& target);

    const Counters& counters() const noexcept { return counters_; }
    const StreamSettings& settings() const noexcept { return settings_; }
    std::size_t openFlows() const noexcept { return byKey_.size(); }

private:
    struct Flow {
        std::unique_ptr<StreamConnection> connection;
        std::string key;
        uint64_t references = 0;
        bool connectedReported = false;
        bool closed = false;
    };
    struct Backoff {
        uint64_t failedAtMs = 0;
        uint64_t retryAtMs = 0;
        uint64_t delayMs = 0;  // the wait after the last failure
        std::string cause;
    };

    void onConnectionReady(StreamConnection& connection) override;
    void onConnectionMessage(StreamConnection& connection, std::string_view message) override;
    void onConnectionClosed(StreamConnection& connection, const std::string& reason,
                            const std::string& cause) override;

    Flow* liveFlow(uint64_t flow);
    const Flow* liveFlow(uint64_t flow) const;
    void recordConnectFailure(const std::string& key, const std::string& cause);
    void pruneBackoff(uint64_t nowMs);
    void scheduleDispatch();
    void dispatch();
    static void onDispatchCb(uv_timer_t* t) noexcept;

    uv_loop_t* loop_;
    StreamSettings settings_;
    MessageHandler onMessage_;
    FlowHandler onFlow_;
    Counters counters_;
    std::unique_ptr<char[]> readBuffer_;
    uint64_t nextFlow_ = 1;
    std::unordered_map<uint64_t, Flow> flows_;          // open flows and closed ones awaiting dispatch
    std::unordered_map<std::string, uint64_t> byKey_;  // open flows only
    std::unordered_map<std::string, Backoff> backoff_;
    std::vector<FlowEvent> pendingClosed_;
    UvHandle<uv_timer_t> dispatchTimer_;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace sipreg::net
