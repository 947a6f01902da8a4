#pragma once
// Monotonic time for every deadline in the project. The sans-I/O core never reads a
// clock: it is handed `now`. The daemon's clock is the loop's (uv_now); tests use
// ManualClock and advance it by hand.
#include <chrono>
#include <cstdint>

namespace sipreg {

using Duration = std::chrono::milliseconds;
// Milliseconds on a monotonic scale with an arbitrary epoch (the loop's start).
using TimePoint = std::chrono::time_point<std::chrono::steady_clock, Duration>;

class Clock {
public:
    virtual ~Clock() = default;
    virtual TimePoint now() const = 0;
};

class ManualClock final : public Clock {
public:
    explicit ManualClock(TimePoint start = TimePoint{Duration{1'000'000}}) : now_(start) {}
    TimePoint now() const override { return now_; }
    void advance(Duration d) { now_ += d; }
    void set(TimePoint t) { now_ = t; }

private:
    TimePoint now_;
};

inline constexpr int64_t toMillis(Duration d) { return d.count(); }

}  // namespace sipreg
