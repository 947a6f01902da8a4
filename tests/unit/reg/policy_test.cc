#include <doctest/doctest.h>

#include "reg/policy.h"
#include "reg/reg_types.h"
#include "reg/state.h"

using namespace sipreg;
using namespace sipreg::reg;
using namespace std::chrono_literals;

TEST_CASE("state names are the public vocabulary") {
    CHECK(stateName(State::Registering) == "registering");
    CHECK(stateName(State::Registered) == "registered");
    CHECK(stateName(State::Waiting) == "waiting");
    CHECK(stateName(State::Failed) == "failed");
    CHECK(stateName(State::Unregistering) == "unregistering");
    CHECK(stateName(State::Stopped) == "stopped");
}

TEST_CASE("refresh leaves room for a whole UDP transaction before the lapse") {
    CHECK(refreshDelay(Seconds{600}, 0) == 540s);
    CHECK(refreshDelay(Seconds{3600}, 0) == 3240s);
    CHECK(refreshDelay(Seconds{120}, 0) == 84s);   // lead 36 s
    CHECK(refreshDelay(Seconds{60}, 0) == 24s);    // a 32 s transaction still ends at 56 s
    for (int g : {60, 120, 300, 600, 3600, 7200}) {
        CAPTURE(g);
        const Duration at = refreshDelay(Seconds{g}, 0.999);
        CHECK(Seconds{g} - at >= 36s);
    }
}

TEST_CASE("short grants refresh at a third of the interval, never in a hot loop") {
    CHECK(refreshDelay(Seconds{45}, 0) == 15s);
    CHECK(refreshDelay(Seconds{30}, 0) == 10s);
    CHECK(refreshDelay(Seconds{10}, 0) == Duration{3333});
    CHECK(refreshDelay(Seconds{1}, 0) == 1s);  // floor
    CHECK(refreshDelay(Seconds{0}, 0.5) == 1s);
}

TEST_CASE("refresh jitter is bounded by min(5 %, 30 s) and only makes the refresh earlier") {
    CHECK(refreshDelay(Seconds{600}, 0.5) == 525s);
    CHECK(refreshDelay(Seconds{600}, 0.999) > 510s);
    CHECK(refreshDelay(Seconds{3600}, 0.999) > 3210s);
    CHECK(refreshDelay(Seconds{3600}, 0.999) < 3240s);
    CHECK(refreshDelay(Seconds{100}, 0.999) > Duration{64'000 - 5'000});
}

TEST_CASE("backoff doubles from base to cap with a 50-100 % draw") {
    BackoffSettings b{Seconds{30}, Seconds{1800}};
    CHECK(backoffDelay(b, 0, 0) == 15s);
    CHECK(backoffDelay(b, 0, 0.999) > 29s);
    CHECK(backoffDelay(b, 0, 0.999) <= 30s);
    CHECK(backoffDelay(b, 1, 0) == 30s);
    CHECK(backoffDelay(b, 2, 0) == 60s);
    CHECK(backoffDelay(b, 5, 0) == 480s);
    CHECK(backoffDelay(b, 6, 0) == 900s);      // 1920 capped to 1800
    CHECK(backoffDelay(b, 100, 0) == 900s);    // no overflow for long outages
    CHECK(backoffDelay(b, 100, 0.999) <= 1800s);
}

TEST_CASE("spreadDelay only lengthens, by at most 10 %") {
    CHECK(spreadDelay(100s, 0) == 100s);
    CHECK(spreadDelay(100s, 0.5) == 105s);
    CHECK(spreadDelay(100s, 0.999) < 110s);
}

TEST_CASE("delays read as seconds, minutes or hours") {
    CHECK(formatDelay(45s) == "45 s");
    CHECK(formatDelay(600s) == "10 m");
    CHECK(formatDelay(3h) == "3 h");
}
