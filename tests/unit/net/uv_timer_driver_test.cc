#include "net/uv_timer_driver.h"

#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

#include "loop_fixture.h"
#include "net/uv_clock.h"

using namespace std::chrono_literals;
using sipreg::TimePoint;
using sipreg::TimerQueue;
using sipreg::net::UvClock;
using sipreg::net::UvTimerDriver;
using sipreg::net::testing::LoopFixture;

TEST_CASE("UvClock reads the loop's cached time") {
    LoopFixture fx;
    UvClock clock(&fx.loop);
    CHECK(clock.now().time_since_epoch().count() == static_cast<int64_t>(uv_now(&fx.loop)));
    const auto before = clock.now();
    fx.runFor(15);
    clock.update();
    CHECK(clock.now() - before >= 15ms);
    fx.finish();
}

TEST_CASE("the driver fires queue timers in deadline order, not before their deadline") {
    LoopFixture fx;
    {
        UvClock clock(&fx.loop);
        TimerQueue queue;
        UvTimerDriver driver(&fx.loop, queue, clock);
        struct Fired {
            std::string name;
            TimePoint at;
        };
        std::vector<Fired> fired;
        const auto start = clock.now();
        auto arm = [&](const std::string& name, std::chrono::milliseconds after) {
            auto id = queue.create();
            queue.arm(id, start + after, [&fired, name, &clock](TimePoint) { fired.push_back({name, clock.now()}); });
            return id;
        };
        arm("c", 45ms);
        arm("a", 15ms);
        arm("b", 30ms);
        auto cancelled = arm("cancelled", 20ms);
        queue.cancel(cancelled);
        driver.rearm();

        REQUIRE(fx.runUntil([&] { return fired.size() == 3; }, "three timers"));
        CHECK(fired[0].name == "a");
        CHECK(fired[1].name == "b");
        CHECK(fired[2].name == "c");
        CHECK(fired[0].at >= start + 15ms);
        CHECK(fired[1].at >= start + 30ms);
        CHECK(fired[2].at >= start + 45ms);
        CHECK(driver.callbacksRun() == 3);
        CHECK(driver.wakeups() <= 4);  // one uv timer wakeup per distinct deadline, not per poll
        driver.close();
    }
    fx.finish();
}

TEST_CASE("re-arming from a callback and re-arming earlier from outside both take effect") {
    LoopFixture fx;
    {
        UvClock clock(&fx.loop);
        TimerQueue queue;
        UvTimerDriver driver(&fx.loop, queue, clock);
        std::vector<TimePoint> ticks;
        auto periodic = queue.create();
        TimerQueue::Callback tick;
        tick = [&](TimePoint now) {
            ticks.push_back(now);
            if (ticks.size() < 3) queue.arm(periodic, now + 10ms, tick);  // the driver re-arms after runDue
        };
        queue.arm(periodic, clock.now() + 10ms, tick);

        // A far timer first, then pulled in: rearm() must move the uv timer earlier.
        bool early = false;
        auto moved = queue.create();
        queue.arm(moved, clock.now() + 10s, [&](TimePoint) { early = true; });
        driver.rearm();
        queue.arm(moved, clock.now() + 5ms, [&](TimePoint) { early = true; });
        driver.rearm();

        REQUIRE(fx.runUntil([&] { return ticks.size() == 3 && early; }, "periodic and moved timers"));
        CHECK(ticks[1] - ticks[0] >= 10ms);
        CHECK(ticks[2] - ticks[1] >= 10ms);
        CHECK(queue.liveCount() == 0);
        driver.close();
    }
    fx.finish();
}

TEST_CASE("a queue callback may destroy the driver") {
    LoopFixture fx;
    {
        UvClock clock(&fx.loop);
        TimerQueue queue;
        auto driver = std::make_unique<UvTimerDriver>(&fx.loop, queue, clock);
        bool ran = false;
        auto id = queue.create();
        queue.arm(id, clock.now() + 1ms, [&](TimePoint) {
            ran = true;
            driver.reset();
        });
        driver->rearm();
        REQUIRE(fx.runUntil([&] { return ran; }));
        CHECK(driver == nullptr);
    }
    fx.finish();
}

TEST_CASE("an exception from a queue callback does not stop the driver") {
    LoopFixture fx;
    {
        UvClock clock(&fx.loop);
        TimerQueue queue;
        UvTimerDriver driver(&fx.loop, queue, clock);
        bool later = false;
        auto bad = queue.create();
        auto good = queue.create();
        queue.arm(bad, clock.now() + 1ms, [](TimePoint) { throw std::runtime_error("bug in a line"); });
        queue.arm(good, clock.now() + 20ms, [&](TimePoint) { later = true; });
        driver.rearm();
        REQUIRE(fx.runUntil([&] { return later; }, "timer after the throwing one"));
        driver.close();
    }
    fx.finish();
}
