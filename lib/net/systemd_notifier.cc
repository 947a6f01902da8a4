#include "net/systemd_notifier.h"

#include <systemd/sd-daemon.h>

#include <spdlog/spdlog.h>

#include <cstdlib>
#include <cstring>
#include <ctime>
#include <stdexcept>

#include "net/transport_error.h"

namespace sipreg::net {

SystemdNotifier::SystemdNotifier(uv_loop_t* loop, Options options) : loop_(loop), options_(options) {
    const char* socket = std::getenv("NOTIFY_SOCKET");
    enabled_ = socket != nullptr && socket[0] != '\0';
    if (!enabled_) return;

    int rc = uv_timer_init(loop_, statusTimer_.get());
    if (rc != 0) throw std::runtime_error(describeUvError("sd_notify status timer", rc));
    statusTimer_.get()->data = this;

    uint64_t usec = 0;
    if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
        const auto ping = std::max<int64_t>(1, static_cast<int64_t>(usec / 2000));
        watchdogPing_ = Duration{ping};
        rc = uv_timer_init(loop_, watchdogTimer_.get());
        if (rc != 0) throw std::runtime_error(describeUvError("sd_notify watchdog timer", rc));
        watchdogTimer_.get()->data = this;
        const auto every = static_cast<uint64_t>(ping);
        uv_timer_start(watchdogTimer_.get(), &SystemdNotifier::onWatchdogTimer, every, every);
        // The pings must not keep a finished loop alive.
        uv_unref(watchdogTimer_.base());
    }
}

SystemdNotifier::~SystemdNotifier() { close(); }

uint64_t SystemdNotifier::monotonicMicros() noexcept {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1'000'000u + static_cast<uint64_t>(ts.tv_nsec) / 1000u;
}

bool SystemdNotifier::send(const std::string& message) noexcept {
    if (!enabled_) return false;
    const int rc = sd_notify(0, message.c_str());
    if (rc > 0) {
        ++counters_.messagesSent;
        return true;
    }
    ++counters_.sendErrors;
    try {
        // Repeating this every second would flood the log; the counter keeps the rest.
        if (!warnedSendError_) {
            warnedSendError_ = true;
            spdlog::warn("sd_notify.error error=\"{}\"", rc < 0 ? std::strerror(-rc) : "NOTIFY_SOCKET unusable");
        }
    } catch (...) {
    }
    return false;
}

void SystemdNotifier::ready() { send("READY=1"); }

void SystemdNotifier::reloading() {
    send("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(monotonicMicros()));
}

void SystemdNotifier::stopping() {
    flushStatus();
    send("STOPPING=1");
}

void SystemdNotifier::status(std::string text) {
    if (!enabled_) {
        lastSent_ = std::move(text);
        return;
    }
    if (pending_) {
        ++counters_.statusCoalesced;
    } else if (text == lastSent_ && lastSentAt_) {
        return;
    }
    pending_ = std::move(text);
    if (statusTimerArmed_) return;  // the timer will send the latest text

    const uint64_t now = uv_now(loop_);
    const auto interval = static_cast<uint64_t>(std::max<int64_t>(0, toMillis(options_.statusInterval)));
    if (!lastSentAt_ || now >= *lastSentAt_ + interval) {
        flushStatus();
        return;
    }
    if (!statusTimer_.initialised()) return;
    uv_timer_start(statusTimer_.get(), &SystemdNotifier::onStatusTimer, *lastSentAt_ + interval - now, 0);
    statusTimerArmed_ = true;
}

void SystemdNotifier::flushStatus() noexcept {
    if (statusTimerArmed_ && statusTimer_.initialised()) uv_timer_stop(statusTimer_.get());
    statusTimerArmed_ = false;
    if (!pending_) return;
    std::string text = std::move(*pending_);
    pending_.reset();
    if (text == lastSent_ && lastSentAt_) return;
    try {
        if (send("STATUS=" + text)) ++counters_.statusSent;
        lastSent_ = std::move(text);
    } catch (...) {
        // Out of memory building the message: drop this update, a later one replaces it.
    }
    lastSentAt_ = uv_now(loop_);
}

void SystemdNotifier::close() noexcept {
    flushStatus();
    statusTimer_.reset();
    watchdogTimer_.reset();
    statusTimerArmed_ = false;
}

void SystemdNotifier::onStatusTimer(uv_timer_t* t) noexcept {
    auto* self = ownerOf<SystemdNotifier>(t);
    if (self == nullptr) return;
    self->statusTimerArmed_ = false;
    self->flushStatus();
}

void SystemdNotifier::onWatchdogTimer(uv_timer_t* t) noexcept {
    auto* self = ownerOf<SystemdNotifier>(t);
    if (self == nullptr) return;
    if (self->send("WATCHDOG=1")) ++self->counters_.watchdogPings;
}

}  // namespace sipreg::net
