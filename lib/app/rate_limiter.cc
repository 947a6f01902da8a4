#include "app/rate_limiter.h"

namespace sipreg::app {

RateLimiter::RateLimiter(uint32_t ratePerSecond, uint32_t burst)
    : rate_(std::max<uint32_t>(1, ratePerSecond)),
      capacityMilli_(int64_t{std::max<uint32_t>(1, burst)} * 1000),
      tokensMilli_(capacityMilli_) {}

void RateLimiter::setRate(uint32_t ratePerSecond, uint32_t burst) noexcept {
    rate_ = std::max<uint32_t>(1, ratePerSecond);
    capacityMilli_ = int64_t{std::max<uint32_t>(1, burst)} * 1000;
    tokensMilli_ = std::min(tokensMilli_, capacityMilli_);
}

void RateLimiter::refill(TimePoint now) noexcept {
    if (!started_) {
        started_ = true;
        last_ = now;
        return;
    }
    if (now <= last_) return;
    const int64_t elapsedMs = toMillis(now - last_);
    // rate tokens per 1000 ms == rate milli-tokens per ms.
    tokensMilli_ = std::min(capacityMilli_, tokensMilli_ + elapsedMs * int64_t{rate_});
    last_ = now;
}

bool RateLimiter::tryTake(TimePoint now) noexcept {
    refill(now);
    if (tokensMilli_ < 1000) return false;
    tokensMilli_ -= 1000;
    return true;
}

TimePoint RateLimiter::nextAvailable(TimePoint now) noexcept {
    refill(now);
    if (tokensMilli_ >= 1000) return now;
    const int64_t missing = 1000 - tokensMilli_;
    const int64_t waitMs = (missing + rate_ - 1) / rate_;
    return now + Duration{waitMs};
}

}  // namespace sipreg::app
