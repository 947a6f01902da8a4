#pragma once
// Events into a RegistrationMachine and the actions it asks the engine to perform.
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "reg/state.h"
#include "sip/message.h"
#include "util/clock.h"

namespace sipreg::reg {

enum class TimerKind : uint8_t {
    Refresh,    // registered: time to refresh the binding
    Retry,      // waiting / failed: time for the next attempt
    Expiry,     // the binding lapses now unless a 2xx came meanwhile
    KeepAlive,  // registered: send a NAT keep-alive
};
inline constexpr std::size_t kTimerKinds = 4;
std::string_view timerName(TimerKind k) noexcept;

struct Event {
    enum class Kind : uint8_t {
        Start,               // begin registering (from stopped)
        ResponseReceived,    // a response the transaction layer delivered for this line
        TransactionTimeout,  // Timer F of the transaction with `branch`
        TransportError,      // the transaction with `branch` could not be sent
        TimerFired,          // `timer` is due
        Stop,                // unregister and stop
        Refresh,             // register again now (operator request, reload, failover)
        // The connection the binding was made over is gone (TCP/TLS): the registrar can no
        // longer reach us through it, so register again over a new one.
        FlowLost,
    };
    Kind kind = Kind::Start;
    const sip::Message* response = nullptr;  // ResponseReceived
    std::string_view branch;                 // TransactionTimeout, TransportError
    std::string_view detail;                 // TransportError, FlowLost: why (for the state text)
    TimerKind timer = TimerKind::Refresh;    // TimerFired

    static Event of(Kind k) {
        Event e;
        e.kind = k;
        return e;
    }
    static Event start() { return of(Kind::Start); }
    static Event stop() { return of(Kind::Stop); }
    static Event refresh() { return of(Kind::Refresh); }
    static Event responseReceived(const sip::Message& m) {
        Event e = of(Kind::ResponseReceived);
        e.response = &m;
        return e;
    }
    static Event transactionTimeout(std::string_view branch, std::string_view peer = {}) {
        Event e = of(Kind::TransactionTimeout);
        e.branch = branch;
        e.detail = peer;  // who never answered, e.g. "UDP 192.0.2.1:5060"
        return e;
    }
    static Event transportError(std::string_view branch, std::string_view detail = {}) {
        Event e = of(Kind::TransportError);
        e.branch = branch;
        e.detail = detail;
        return e;
    }
    static Event flowLost(std::string_view detail) {
        Event e = of(Kind::FlowLost);
        e.detail = detail;
        return e;
    }
    static Event timerFired(TimerKind k) {
        Event e = of(Kind::TimerFired);
        e.timer = k;
        return e;
    }
};

// Why a request is sent; lets the engine treat keep-alives differently (e.g. rate limits).
enum class RequestPurpose : uint8_t { Register, Unregister, KeepAlive };

struct Action {
    enum class Kind : uint8_t {
        // Start a client transaction for `bytes` (a complete request with top Via branch
        // `branch`, method `method`) towards the line's registrar.
        SendRequest,
        // Abandon the client transaction with `branch` (superseded; its responses are no
        // longer wanted and its retransmissions must stop).
        CancelRequest,
        // Send `bytes` ("\r\n\r\n") to the registrar outside any transaction.
        SendKeepAlive,
        ArmTimer,     // (re)arm `timer` at `at`, replacing a pending one of the same kind
        CancelTimer,  // drop `timer` if pending
        // The public state changed: `from` -> `to`. `statusCode` is the response that caused
        // it (0: none, e.g. a timeout). `text` is the log/status line, e.g.
        // "registered, expires 600 s, refresh in 540 s" or "403 Forbidden, retry in 10 m".
        StateChanged,
        // A refresh succeeded without a state change (log at debug; see describe()).
        Refreshed,
    };
    Kind kind = Kind::SendRequest;
    RequestPurpose purpose = RequestPurpose::Register;  // SendRequest
    std::string bytes;                                  // SendRequest, SendKeepAlive
    // Views into the machine: valid until the next call into it.
    std::string_view branch;                            // SendRequest, CancelRequest
    std::string_view method;                            // SendRequest (static storage)
    TimerKind timer = TimerKind::Refresh;               // ArmTimer, CancelTimer
    TimePoint at{};                                     // ArmTimer
    State from = State::Stopped;                        // StateChanged
    State to = State::Stopped;
    int statusCode = 0;                                 // StateChanged, Refreshed
    // StateChanged / Refreshed into `registered`: the granted interval and the delay until
    // the refresh. StateChanged into waiting/failed: `next` is the delay until the retry.
    std::chrono::seconds granted{0};
    Duration next{0};
    // StateChanged only (a refresh must not allocate): the log/status line, see above.
    // Use describe() for a Refreshed action.
    std::string text;
};

// The text for a Refreshed action ("registered, expires 600 s, refresh in 540 s"), or
// `text` for any other action.
std::string describe(const Action& a);
// "45 s", "10 m", "2 h": how the state texts write delays.
std::string formatDelay(Duration d);

}  // namespace sipreg::reg
