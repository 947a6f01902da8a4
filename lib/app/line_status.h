#pragma once
// What the outside (control socket, metrics, on_change, --once) may know about a line: a
// copy taken at one moment, in plain values, so readers never hold pointers into the
// engine. Times are given both as the engine's monotonic TimePoint and, for humans, as
// wall-clock seconds since the Unix epoch.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "reg/line_counters.h"
#include "reg/state.h"
#include "util/clock.h"

namespace sipreg::app {

struct StateChangeRecord {
    TimePoint at{};              // engine time
    int64_t wallSeconds = 0;     // Unix time of the change
    reg::State from = reg::State::Stopped;
    reg::State to = reg::State::Stopped;
    int statusCode = 0;          // the response that caused it; 0: none (timeout, start, ...)
    std::string text;            // the log text, e.g. "403 Forbidden, retry in 10 m"
};

// Delivered to the state-change listener (on_change, metrics) as it happens.
struct StateChangeEvent {
    std::string_view lineId;
    const StateChangeRecord* change = nullptr;
    std::string_view reason;     // reason phrase of the response, empty when none
    bool retiring = false;       // the line was removed or replaced by a reload
};

struct LineStatus {
    std::string id;
    reg::State state = reg::State::Stopped;
    std::string registrar;        // the registrar URI as configured
    std::string outboundProxy;    // empty: none
    std::string transport;        // "udp", "tcp", "tls" in use (or configured before the first try)
    std::string target;           // the peer in use, "TLS 192.0.2.1:5061"; empty before the first try
    std::string setupError;       // why the line could not be set up; empty when fine
    int64_t grantedSeconds = 0;   // last granted expiry; 0 when none
    std::optional<Duration> expiresIn;   // until the confirmed binding lapses
    std::optional<Duration> nextActionIn;  // until the next refresh or retry
    std::string nextAction;       // "refresh", "retry", "start", or empty
    int lastStatusCode = 0;       // last final response; 0 none or timeout
    std::string lastReason;       // its reason phrase, or "timeout" / "transport error: ..."
    uint32_t consecutiveFailures = 0;
    std::optional<StateChangeRecord> lastChange;
    reg::LineCounters counters;
    std::vector<StateChangeRecord> history;  // oldest first, at most kHistoryLength
};

inline constexpr std::size_t kHistoryLength = 10;

// One SIP message to or from a line, for `sipregctl trace`: already redacted.
struct TraceEvent {
    std::string_view lineId;     // empty: matched no line (stray, unknown request)
    bool outgoing = false;
    std::string_view peer;       // "UDP 192.0.2.1:5060"
    std::string_view bytes;      // redacted message text
};

}  // namespace sipreg::app
