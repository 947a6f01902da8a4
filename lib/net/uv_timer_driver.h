#pragma once
// Drives the process TimerQueue from one uv_timer_t armed for the earliest live deadline.
// Whoever arms or cancels queue timers calls rearm() afterwards (cheap: one heap peek and
// one uv_timer_start); after running due timers the driver re-arms itself.
#include <uv.h>

#include <cstdint>

#include "net/uv_handle.h"
#include "util/clock.h"
#include "util/lateness_histogram.h"
#include "util/timer_queue.h"

namespace sipreg::net {

class UvTimerDriver {
public:
    // `clock` must be on the loop's time scale (UvClock) so a deadline maps to a delay.
    UvTimerDriver(uv_loop_t* loop, TimerQueue& queue, const Clock& clock);
    ~UvTimerDriver() = default;
    UvTimerDriver(const UvTimerDriver&) = delete;
    UvTimerDriver& operator=(const UvTimerDriver&) = delete;

    void rearm() noexcept;
    // Stops the uv timer and releases it; the queue itself is left untouched.
    void close() noexcept;

    uint64_t wakeups() const noexcept { return wakeups_; }      // uv timer callbacks
    uint64_t callbacksRun() const noexcept { return ran_; }     // queue callbacks run
    // Per wakeup: how far past the earliest due deadline the loop got to it.
    const LatenessHistogram& lateness() const noexcept { return lateness_; }

private:
    static void onFire(uv_timer_t* t) noexcept;

    TimerQueue& queue_;
    const Clock& clock_;
    UvHandle<uv_timer_t> timer_;
    uint64_t wakeups_ = 0;
    uint64_t ran_ = 0;
    LatenessHistogram lateness_;
};

}  // namespace sipreg::net
