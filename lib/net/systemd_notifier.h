#pragma once
// Tells the service manager how the daemon is doing (sd_notify): READY, a throttled STATUS
// line, WATCHDOG pings from a loop timer (so a stuck loop stops them), RELOADING and
// STOPPING. Without NOTIFY_SOCKET every call is a cheap no-op.
#include <uv.h>

#include <cstdint>
#include <optional>
#include <string>

#include "net/uv_handle.h"
#include "util/clock.h"

namespace sipreg::net {

class SystemdNotifier {
public:
    struct Options {
        // At most one STATUS= per interval; the latest text wins and is sent when the
        // interval ends, so the final state is never lost.
        Duration statusInterval{1000};
    };
    struct Counters {
        uint64_t messagesSent = 0;
        uint64_t sendErrors = 0;
        uint64_t statusSent = 0;
        uint64_t statusCoalesced = 0;  // updates replaced by a newer one before being sent
        uint64_t watchdogPings = 0;
    };

    // Reads NOTIFY_SOCKET and WATCHDOG_USEC (sd_watchdog_enabled); when the watchdog is
    // on, starts pinging at half its interval.
    SystemdNotifier(uv_loop_t* loop, Options options);
    explicit SystemdNotifier(uv_loop_t* loop) : SystemdNotifier(loop, Options{}) {}
    ~SystemdNotifier();
    SystemdNotifier(const SystemdNotifier&) = delete;
    SystemdNotifier& operator=(const SystemdNotifier&) = delete;

    bool enabled() const noexcept { return enabled_; }
    // Ping cadence (half of WATCHDOG_USEC), when the watchdog is enabled.
    std::optional<Duration> watchdogPingInterval() const noexcept { return watchdogPing_; }

    void ready();                      // READY=1 (also after a reload)
    void status(std::string text);     // STATUS=<text>, throttled
    void reloading();                  // RELOADING=1 + MONOTONIC_USEC=<CLOCK_MONOTONIC µs>
    void stopping();                   // flushes a pending STATUS, then STOPPING=1
    // Flushes a pending STATUS and stops the timers. Safe to call more than once.
    void close() noexcept;

    const std::string& lastStatusSent() const noexcept { return lastSent_; }
    const Counters& counters() const noexcept { return counters_; }

    // CLOCK_MONOTONIC in microseconds, the scale systemd expects in MONOTONIC_USEC.
    static uint64_t monotonicMicros() noexcept;

private:
    bool send(const std::string& message) noexcept;
    void flushStatus() noexcept;
    static void onStatusTimer(uv_timer_t* t) noexcept;
    static void onWatchdogTimer(uv_timer_t* t) noexcept;

    uv_loop_t* loop_;
    Options options_;
    bool enabled_ = false;
    std::optional<Duration> watchdogPing_;
    UvHandle<uv_timer_t> statusTimer_;
    UvHandle<uv_timer_t> watchdogTimer_;
    bool statusTimerArmed_ = false;
    std::optional<std::string> pending_;
    std::string lastSent_;
    std::optional<uint64_t> lastSentAt_;  // uv_now() of the last STATUS sent
    bool warnedSendError_ = false;
    Counters counters_;
};

}  // namespace sipreg::net
