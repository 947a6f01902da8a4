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

TEST_CASE("refresh leaves room for two whole UDP transactions before the lapse") {
    CHECK(refreshDelay(Seconds{600}, 0) == 528s);   // lead 72 s
    CHECK(refreshDelay(Seconds{3600}, 0) == 3240s); // lead a tenth
    CHECK(refreshDelay(Seconds{120}, 0) == 48s);    // a timed-out refresh (32 s) still leaves 40 s
    CHECK(refreshDelay(Seconds{90}, 0) == 30s);     // the third wins
    CHECK(refreshDelay(Seconds{60}, 0) == 20s);
    for (int g : {120, 300, 600, 3600, 7200}) {
        CAPTURE(g);
        const Duration at = refreshDelay(Seconds{g}, 0.999);
        CHECK(Seconds{g} - at >= 72s);
    }
    CHECK(Seconds{60} - refreshDelay(Seconds{60}, 0.999) >= 40s);
}

TEST_CASE("a failed refresh retries within a quarter of the binding's time left") {
    CHECK(retryWhileBound(40s, 0) == 5s);
    CHECK(retryWhileBound(40s, 0.999) > Duration{9'990});
    CHECK(retryWhileBound(40s, 0.999) <= 10s);
    CHECK(retryWhileBound(2s, 0.5) == 1s);  // floor
}

TEST_CASE("short grants refresh at a third of the interval, never in a hot loop") {
    CHECK(refreshDelay(Seconds{45}, 0) == 15s);
    CHECK(refreshDelay(Seconds{30}, 0) == 10s);
    CHECK(refreshDelay(Seconds{10}, 0) == Duration{3333});
    CHECK(refreshDelay(Seconds{1}, 0) == 1s);  // floor
    CHECK(refreshDelay(Seconds{0}, 0.5) == 1s);
}

TEST_CASE("refresh jitter is bounded by min(5 %, 30 s) and only makes the refresh earlier") {
    CHECK(refreshDelay(Seconds{600}, 0.5) == 513s);
    CHECK(refreshDelay(Seconds{600}, 0.999) > 498s);
    CHECK(refreshDelay(Seconds{3600}, 0.999) > 3210s);
    CHECK(refreshDelay(Seconds{3600}, 0.999) < 3240s);
    CHECK(refreshDelay(Seconds{100}, 0.999) > Duration{33'333 - 5'000});
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
