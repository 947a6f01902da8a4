#pragma once
// The process clock: the loop's cached millisecond time (uv_now), so deadlines computed by
// the core and the uv timer that fires them share one scale. Call update() after long
// synchronous work (a reload) so the next `now` is fresh.
#include <uv.h>

#include "util/clock.h"

namespace sipreg::net {

class UvClock final : public Clock {
public:
    explicit UvClock(uv_loop_t* loop) noexcept : loop_(loop) {}
    TimePoint now() const override { return TimePoint{Duration{static_cast<int64_t>(uv_now(loop_))}}; }
    void update() noexcept { uv_update_time(loop_); }

private:
    uv_loop_t* loop_;
};

}  // namespace sipreg::net
