#pragma once
// Registration timing rules, pure functions of their inputs (the random draw is passed in
// as a fraction in [0, 1) so tests can pin it).
#include <chrono>
#include <cstdint>

#include "util/clock.h"

namespace sipreg::reg {

using Seconds = std::chrono::seconds;

// Two whole non-INVITE transactions over UDP (2 * 64*T1) plus room for queueing behind the
// global rate limiter: a refresh that times out still leaves time for a retry that completes.
inline constexpr Duration kRefreshLead{72'000};

// When to refresh a binding granted for `granted`, measured from the 2xx:
//   lead = max(72 s, granted / 10)        (600 s -> 528 s, 3600 s -> 3240 s, 120 s -> 48 s)
//   at   = granted - lead, but never earlier than granted / 3
//          (short grants: 90 s -> 30 s, 60 s -> 20 s, 10 s -> 3.3 s; a third keeps a slow
//          registrar from driving us into a hot loop while leaving two thirds for retries)
//   minus a jitter of jitter01 * min(granted / 20, 30 s), so lines registered together
//   drift apart instead of refreshing in the same second forever;
//   never sooner than 1 s.
Duration refreshDelay(Seconds granted, double jitter01);

struct BackoffSettings {
    Seconds base{30};
    Seconds cap{1800};
};

// RFC 5626 4.5: wait = min(cap, base * 2^failures), then a uniform draw between 50 % and
// 100 % of it. `failures` counts the consecutive failures before this one (0 for the first).
Duration backoffDelay(const BackoffSettings& s, uint32_t failures, double jitter01);

// A server-given delay (Retry-After) or a fixed long retry, stretched by up to 10 % so
// lines that failed together do not all come back in the same instant. Never shortened.
Duration spreadDelay(Duration d, double jitter01);

// After a failed refresh while the binding still has `left`: the retry comes within a
// quarter of that (a uniform draw between 50 % and 100 % of it, at least 1 s), so even a
// refresh that timed out late gets further tries before the lapse. The caller takes the
// smaller of this and the ordinary backoff.
Duration retryWhileBound(Duration left, double jitter01);

// Retry-After values are clamped to this (a typo in a registrar must not park a line for years).
inline constexpr Seconds kMaxRetryAfter{86'400};

}  // namespace sipreg::reg
