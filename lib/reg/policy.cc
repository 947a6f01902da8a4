#include "reg/policy.h"

#include <algorithm>

namespace sipreg::reg {
namespace {

double clamp01(double x) { return x < 0 ? 0 : (x >= 1 ? 0.999999 : x); }

Duration scaled(Duration d, double f) {
    return Duration{static_cast<Duration::rep>(static_cast<double>(d.count()) * f)};
}

}  // namespace

Duration refreshDelay(Seconds granted, double jitter01) {
    const Duration g = granted;
    const Duration lead = std::max(kRefreshLead, g / 10);
    Duration at = std::max(g - lead, g / 3);
    const Duration spread = std::min(g / 20, Duration{30'000});
    at -= scaled(spread, clamp01(jitter01));
    return std::max(at, Duration{1'000});
}

Duration backoffDelay(const BackoffSettings& s, uint32_t failures, double jitter01) {
    const Duration cap = std::max<Duration>(s.cap, Duration{1'000});
    Duration wait = std::clamp<Duration>(s.base, Duration{1'000}, cap);
    for (uint32_t i = 0; i < failures && wait < cap; ++i) wait = std::min(wait * 2, cap);
    return scaled(wait, 0.5 + 0.5 * clamp01(jitter01));
}

Duration retryWhileBound(Duration left, double jitter01) {
    const Duration quarter = scaled(left / 4, 0.5 + 0.5 * clamp01(jitter01));
    return std::max(quarter, Duration{1'000});
}

Duration spreadDelay(Duration d, double jitter01) {
    return d + scaled(d / 10, clamp01(jitter01));
}

}  // namespace sipreg::reg
