#include "util/timer_queue.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace std::chrono_literals;
using sipreg::Duration;
using sipreg::ManualClock;
using sipreg::TimePoint;
using sipreg::TimerQueue;

namespace {

struct Fixture {
    ManualClock clock;
    TimerQueue queue;
    std::vector<std::string> fired;

    TimerQueue::Callback record(std::string name) {
        return [this, name = std::move(name)](TimePoint) { fired.push_back(name); };
    }
    TimePoint at(Duration d) const { return clock.now() + d; }
    std::size_t advanceAndRun(Duration d) {
        clock.advance(d);
        return queue.runDue(clock.now());
    }
};

}  // namespace

TEST_CASE("timers fire in deadline order and only when due") {
    Fixture f;
    auto a = f.queue.create();
    auto b = f.queue.create();
    auto c = f.queue.create();
    f.queue.arm(c, f.at(300ms), f.record("c"));
    f.queue.arm(a, f.at(100ms), f.record("a"));
    f.queue.arm(b, f.at(200ms), f.record("b"));
    CHECK(f.queue.liveCount() == 3);
    REQUIRE(f.queue.nextDeadline().has_value());
    CHECK(*f.queue.nextDeadline() == f.at(100ms));

    CHECK(f.advanceAndRun(99ms) == 0);
    CHECK(f.fired.empty());
    CHECK(f.advanceAndRun(1ms) == 1);
    CHECK(f.fired == std::vector<std::string>{"a"});
    CHECK(f.advanceAndRun(500ms) == 2);
    CHECK(f.fired == std::vector<std::string>{"a", "b", "c"});
    CHECK(f.queue.liveCount() == 0);
    CHECK_FALSE(f.queue.nextDeadline().has_value());
    CHECK_FALSE(f.queue.armed(a));
}

TEST_CASE("the callback receives the now passed to runDue") {
    Fixture f;
    auto a = f.queue.create();
    TimePoint seen{};
    f.queue.arm(a, f.at(10ms), [&](TimePoint now) { seen = now; });
    f.clock.advance(25ms);
    f.queue.runDue(f.clock.now());
    CHECK(seen == f.clock.now());
}

TEST_CASE("equal deadlines fire in arming order") {
    Fixture f;
    std::vector<TimerQueue::Id> ids;
    for (int i = 0; i < 5; ++i) ids.push_back(f.queue.create());
    const auto when = f.at(50ms);
    // Arm in an order unrelated to slot order.
    for (int i : {3, 0, 4, 1, 2}) f.queue.arm(ids[i], when, f.record(std::to_string(i)));
    f.advanceAndRun(50ms);
    CHECK(f.fired == std::vector<std::string>{"3", "0", "4", "1", "2"});
}

TEST_CASE("re-arming replaces the deadline and the callback") {
    Fixture f;
    auto a = f.queue.create();
    f.queue.arm(a, f.at(100ms), f.record("first"));
    f.queue.arm(a, f.at(300ms), f.record("second"));
    CHECK(f.queue.liveCount() == 1);
    REQUIRE(f.queue.deadline(a).has_value());
    CHECK(*f.queue.deadline(a) == f.at(300ms));
    CHECK(*f.queue.nextDeadline() == f.at(300ms));
    CHECK(f.advanceAndRun(200ms) == 0);
    CHECK(f.advanceAndRun(100ms) == 1);
    CHECK(f.fired == std::vector<std::string>{"second"});

    SUBCASE("re-arming earlier also works") {
        f.fired.clear();
        f.queue.arm(a, f.at(500ms), f.record("late"));
        f.queue.arm(a, f.at(10ms), f.record("early"));
        CHECK(f.advanceAndRun(10ms) == 1);
        CHECK(f.advanceAndRun(1000ms) == 0);
        CHECK(f.fired == std::vector<std::string>{"early"});
    }
}

TEST_CASE("cancel stops a pending timer and is a no-op otherwise") {
    Fixture f;
    auto a = f.queue.create();
    auto b = f.queue.create();
    f.queue.cancel(a);  // never armed
    f.queue.arm(a, f.at(10ms), f.record("a"));
    f.queue.arm(b, f.at(20ms), f.record("b"));
    f.queue.cancel(a);
    f.queue.cancel(a);
    CHECK_FALSE(f.queue.armed(a));
    CHECK_FALSE(f.queue.deadline(a).has_value());
    CHECK(f.queue.liveCount() == 1);
    CHECK(*f.queue.nextDeadline() == f.at(20ms));
    f.advanceAndRun(100ms);
    CHECK(f.fired == std::vector<std::string>{"b"});
    f.queue.cancel(TimerQueue::Id{});  // invalid id
    CHECK(f.queue.liveCount() == 0);
}

TEST_CASE("a destroyed slot reused by another timer never fires the old entry") {
    Fixture f;
    auto a = f.queue.create();
    f.queue.arm(a, f.at(10ms), f.record("old"));
    f.queue.destroy(a);
    CHECK_FALSE(f.queue.armed(a));
    auto b = f.queue.create();
    CHECK(b.slot == a.slot);  // the slot is reused, the stale entry is still in the heap
    CHECK(f.queue.heapSize() == 1);
    CHECK_FALSE(f.queue.armed(b));
    f.advanceAndRun(50ms);
    CHECK(f.fired.empty());

    f.queue.arm(b, f.at(5ms), f.record("new"));
    f.advanceAndRun(5ms);
    CHECK(f.fired == std::vector<std::string>{"new"});

    SUBCASE("destroy twice does not hand the slot out twice") {
        f.queue.destroy(b);
        f.queue.destroy(b);
        auto c = f.queue.create();
        auto d = f.queue.create();
        CHECK(c.slot != d.slot);
    }
    SUBCASE("arming a destroyed id is a programmer error") {
        f.queue.destroy(b);
        CHECK_THROWS_AS(f.queue.arm(b, f.at(1ms), f.record("x")), std::logic_error);
        CHECK_THROWS_AS(f.queue.arm(TimerQueue::Id{}, f.at(1ms), f.record("x")), std::logic_error);
    }
}

TEST_CASE("a destroyed and reused slot armed later ignores the earlier stale deadline") {
    Fixture f;
    auto a = f.queue.create();
    f.queue.arm(a, f.at(10ms), f.record("old"));
    f.queue.destroy(a);
    auto b = f.queue.create();
    f.queue.arm(b, f.at(100ms), f.record("new"));
    CHECK(*f.queue.nextDeadline() == f.at(100ms));
    CHECK(f.advanceAndRun(10ms) == 0);
    CHECK(f.advanceAndRun(90ms) == 1);
    CHECK(f.fired == std::vector<std::string>{"new"});
}

TEST_CASE("a callback may re-arm itself; the new deadline waits for the next pass") {
    Fixture f;
    auto a = f.queue.create();
    int count = 0;
    TimerQueue::Callback tick;
    tick = [&](TimePoint now) {
        ++count;
        f.queue.arm(a, now, tick);  // due at once: must not run again in this pass
    };
    f.queue.arm(a, f.at(10ms), tick);
    CHECK(f.advanceAndRun(10ms) == 1);
    CHECK(count == 1);
    CHECK(f.queue.armed(a));
    CHECK(f.queue.runDue(f.clock.now()) == 1);
    CHECK(count == 2);
    f.queue.cancel(a);
}

TEST_CASE("a callback re-arming itself into the future fires periodically") {
    Fixture f;
    auto a = f.queue.create();
    std::vector<TimePoint> times;
    TimerQueue::Callback tick;
    tick = [&](TimePoint now) {
        times.push_back(now);
        if (times.size() < 3) f.queue.arm(a, now + 100ms, tick);
    };
    const auto start = f.clock.now();
    f.queue.arm(a, start + 100ms, tick);
    for (int i = 0; i < 10; ++i) f.advanceAndRun(50ms);
    CHECK(times == std::vector<TimePoint>{start + 100ms, start + 200ms, start + 300ms});
    CHECK_FALSE(f.queue.armed(a));
}

TEST_CASE("a callback may cancel or destroy other due timers, which then do not fire") {
    Fixture f;
    auto a = f.queue.create();
    auto b = f.queue.create();
    auto c = f.queue.create();
    f.queue.arm(a, f.at(10ms), [&](TimePoint) {
        f.fired.push_back("a");
        f.queue.cancel(b);
        f.queue.destroy(c);
    });
    f.queue.arm(b, f.at(10ms), f.record("b"));
    f.queue.arm(c, f.at(20ms), f.record("c"));
    CHECK(f.advanceAndRun(100ms) == 1);
    CHECK(f.fired == std::vector<std::string>{"a"});
    CHECK(f.queue.liveCount() == 0);
}

TEST_CASE("a callback may destroy its own timer and create new ones") {
    Fixture f;
    auto a = f.queue.create();
    std::string captured = "payload kept alive while running";
    std::string seenInside;
    std::vector<TimerQueue::Id> created;
    f.queue.arm(a, f.at(10ms), [&, captured](TimePoint now) {
        f.queue.destroy(a);
        // Growing the slot table while the callback runs must not disturb it.
        for (int i = 0; i < 100; ++i) {
            auto id = f.queue.create();
            created.push_back(id);
            f.queue.arm(id, now + 1ms, f.record("child"));
        }
        seenInside = captured;  // the callback's own state is still valid here
    });
    CHECK(f.advanceAndRun(10ms) == 1);
    CHECK(seenInside == captured);
    CHECK(f.queue.liveCount() == 100);
    CHECK(f.advanceAndRun(1ms) == 100);
    CHECK(f.fired.size() == 100);
}

TEST_CASE("a callback arming an already-due timer defers it to the next pass") {
    Fixture f;
    auto a = f.queue.create();
    auto b = f.queue.create();
    auto late = f.queue.create();
    f.queue.arm(a, f.at(10ms), [&](TimePoint now) {
        f.fired.push_back("a");
        f.queue.arm(b, now - 5ms, f.record("b"));
    });
    f.queue.arm(late, f.at(20ms), f.record("late"));
    CHECK(f.advanceAndRun(20ms) == 2);  // "a" and "late": "b" was armed during the pass
    CHECK(f.fired == std::vector<std::string>{"a", "late"});
    CHECK(f.queue.armed(b));
    CHECK(f.queue.runDue(f.clock.now()) == 1);
    CHECK(f.fired == std::vector<std::string>{"a", "late", "b"});
}

TEST_CASE("an exception from a callback leaves the queue consistent") {
    Fixture f;
    auto a = f.queue.create();
    auto b = f.queue.create();
    auto c = f.queue.create();
    f.queue.arm(a, f.at(10ms), [&](TimePoint now) {
        f.queue.arm(c, now, f.record("c"));  // deferred entry must survive the throw
        throw std::runtime_error("boom");
    });
    f.queue.arm(b, f.at(10ms), f.record("b"));
    CHECK_THROWS_AS(f.advanceAndRun(10ms), std::runtime_error);
    CHECK(f.queue.liveCount() == 2);
    CHECK(f.queue.runDue(f.clock.now()) == 2);
    CHECK(f.fired == std::vector<std::string>{"b", "c"});
}

TEST_CASE("repeated re-arming of many timers keeps the heap bounded") {
    Fixture f;
    constexpr int kTimers = 10'000;
    std::vector<TimerQueue::Id> ids;
    int fired = 0;
    for (int i = 0; i < kTimers; ++i) ids.push_back(f.queue.create());
    std::size_t maxHeap = 0;
    for (int round = 0; round < 30; ++round) {
        for (int i = 0; i < kTimers; ++i) {
            f.queue.arm(ids[i], f.at(Duration{1000 + (i * 7 + round) % 500}), [&](TimePoint) { ++fired; });
            maxHeap = std::max(maxHeap, f.queue.heapSize());
        }
    }
    CHECK(f.queue.liveCount() == kTimers);
    CHECK(maxHeap <= 2 * kTimers + 1);
    CHECK(f.queue.heapSize() <= 2 * kTimers);
    f.advanceAndRun(2000ms);
    CHECK(fired == kTimers);  // each timer fires once, for its last arming only

    SUBCASE("arm and cancel cycles also stay bounded") {
        std::size_t peak = 0;
        for (int round = 0; round < 20; ++round) {
            for (auto id : ids) f.queue.arm(id, f.at(5s), [](TimePoint) {});
            for (auto id : ids) f.queue.cancel(id);
            peak = std::max(peak, f.queue.heapSize());
        }
        CHECK(peak <= 2 * kTimers + 1);
        CHECK_FALSE(f.queue.nextDeadline().has_value());
        CHECK(f.queue.heapSize() == 0);
    }
}

TEST_CASE("compaction keeps ordering and ties intact") {
    Fixture f;
    std::vector<TimerQueue::Id> ids;
    for (int i = 0; i < 200; ++i) ids.push_back(f.queue.create());
    // Many stale entries first, then a final arming with deliberate ties.
    for (int round = 0; round < 5; ++round)
        for (auto id : ids) f.queue.arm(id, f.at(1h), [](TimePoint) {});
    std::vector<int> order;
    for (int i = 199; i >= 0; --i) {
        f.queue.arm(ids[i], f.at(Duration{10 * (i % 4)}), [&order, i](TimePoint) { order.push_back(i); });
    }
    CHECK(f.queue.heapSize() <= 2 * 200 + 1);
    f.advanceAndRun(100ms);
    REQUIRE(order.size() == 200);
    // Expected: by deadline (i % 4), then in arming order (descending i).
    std::vector<int> expected;
    for (int k = 0; k < 4; ++k)
        for (int i = 199; i >= 0; --i)
            if (i % 4 == k) expected.push_back(i);
    CHECK(order == expected);
}
