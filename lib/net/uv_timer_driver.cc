#include "net/uv_timer_driver.h"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace sipreg::net {

UvTimerDriver::UvTimerDriver(uv_loop_t* loop, TimerQueue& queue, const Clock& clock)
    : queue_(queue), clock_(clock) {
    const int rc = uv_timer_init(loop, timer_.get());
    if (rc != 0) throw std::runtime_error(std::string("uv_timer_init: ") + uv_strerror(rc));
    timer_.get()->data = this;
}

void UvTimerDriver::rearm() noexcept {
    if (!timer_.initialised()) return;
    const auto next = queue_.nextDeadline();
    if (!next) {
        uv_timer_stop(timer_.get());
        return;
    }
    const int64_t delay = std::max<int64_t>(0, toMillis(*next - clock_.now()));
    uv_timer_start(timer_.get(), &UvTimerDriver::onFire, static_cast<uint64_t>(delay), 0);
}

void UvTimerDriver::close() noexcept { timer_.reset(); }

void UvTimerDriver::onFire(uv_timer_t* t) noexcept {
    auto* self = ownerOf<UvTimerDriver>(t);
    if (self == nullptr) return;
    ++self->wakeups_;
    std::size_t ran = 0;
    TimerQueue& queue = self->queue_;
    const TimePoint now = self->clock_.now();
    if (const auto due = queue.nextDeadline(); due && *due <= now) self->lateness_.record(now - *due);
    guardCallback("timer_queue", [&] { ran = queue.runDue(now); });
    // A queue callback may have closed or destroyed the driver: check before touching it.
    if (ownerOf<UvTimerDriver>(t) == nullptr) return;
    self->ran_ += ran;
    self->rearm();
}

}  // namespace sipreg::net
