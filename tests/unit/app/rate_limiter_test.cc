#include <doctest/doctest.h>

#include "app/rate_limiter.h"

using namespace sipreg;
using namespace std::chrono_literals;

TEST_CASE("rate limiter hands out the burst, then one token per 1/rate seconds") {
    ManualClock clock;
    app::RateLimiter limiter(10, 3);
    int taken = 0;
    while (limiter.tryTake(clock.now())) ++taken;
    CHECK(taken == 3);
    CHECK(limiter.nextAvailable(clock.now()) == clock.now() + 100ms);
    clock.advance(99ms);
    CHECK_FALSE(limiter.tryTake(clock.now()));
    clock.advance(1ms);
    CHECK(limiter.tryTake(clock.now()));
    CHECK_FALSE(limiter.tryTake(clock.now()));
}

TEST_CASE("rate limiter never exceeds its rate over a long run") {
    ManualClock clock;
    app::RateLimiter limiter(50, 50);
    int taken = 0;
    for (int ms = 0; ms < 10'000; ++ms) {
        while (limiter.tryTake(clock.now())) ++taken;
        clock.advance(1ms);
    }
    // 50 of burst plus 50 per second for 10 s (the last millisecond's token is not yet due).
    CHECK(taken >= 549);
    CHECK(taken <= 550);
}

TEST_CASE("rate limiter keeps at most its burst after idling") {
    ManualClock clock;
    app::RateLimiter limiter(100, 5);
    CHECK(limiter.tryTake(clock.now()));
    clock.advance(1h);
    int taken = 0;
    while (limiter.tryTake(clock.now())) ++taken;
    CHECK(taken == 5);
}
