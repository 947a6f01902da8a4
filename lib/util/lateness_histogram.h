#pragma once
// How late timers fired after their deadline, in fixed buckets (milliseconds), so the
// metrics page can show whether the loop keeps up (a flood, a slow disk under the logger,
// a reload of many lines all show up here first).
#include <algorithm>
#include <array>
#include <cstdint>

#include "util/clock.h"

namespace sipreg {

class LatenessHistogram {
public:
    // Upper bounds of the buckets, inclusive; the last bucket (+Inf) is implicit.
    static constexpr std::array<int64_t, 9> kBoundsMs{1, 5, 10, 25, 50, 100, 250, 1000, 5000};

    void record(Duration late) noexcept {
        const int64_t ms = std::max<int64_t>(0, toMillis(late));
        std::size_t i = 0;
        while (i < kBoundsMs.size() && ms > kBoundsMs[i]) ++i;
        ++buckets_[i];
        ++count_;
        sumMs_ += static_cast<uint64_t>(ms);
        maxMs_ = std::max(maxMs_, ms);
    }

    // Non-cumulative: buckets()[i] counts samples in (kBoundsMs[i-1], kBoundsMs[i]]; the
    // last entry counts those above every bound.
    const std::array<uint64_t, kBoundsMs.size() + 1>& buckets() const noexcept { return buckets_; }
    uint64_t count() const noexcept { return count_; }
    uint64_t sumMs() const noexcept { return sumMs_; }
    int64_t maxMs() const noexcept { return maxMs_; }

private:
    std::array<uint64_t, kBoundsMs.size() + 1> buckets_{};
    uint64_t count_ = 0;
    uint64_t sumMs_ = 0;
    int64_t maxMs_ = 0;
};

}  // namespace sipreg
