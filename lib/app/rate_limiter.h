#pragma once
// A token bucket for new client transactions across all lines (`max_rate` per second), so
// a start-up, a reload or a registrar coming back is a steady stream, not a storm.
#include <algorithm>
#include <cstdint>

#include "util/clock.h"

namespace sipreg::app {

class RateLimiter {
public:
    // `ratePerSecond` tokens per second; the bucket holds at most `burst` tokens.
    RateLimiter(uint32_t ratePerSecond, uint32_t burst);

    // Takes a token if one is available at `now`.
    bool tryTake(TimePoint now) noexcept;
    // When the next token will be available (now, if one is).
    TimePoint nextAvailable(TimePoint now) noexcept;
    void setRate(uint32_t ratePerSecond, uint32_t burst) noexcept;
    uint32_t rate() const noexcept { return rate_; }

private:
    void refill(TimePoint now) noexcept;

    uint32_t rate_;
    // Tokens are counted in thousandths so integer arithmetic stays exact at any rate.
    int64_t capacityMilli_;
    int64_t tokensMilli_;
    TimePoint last_{};
    bool started_ = false;
};

}  // namespace sipreg::app
