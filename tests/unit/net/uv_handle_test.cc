#include "net/uv_handle.h"

#include <doctest/doctest.h>

#include "loop_fixture.h"

using sipreg::net::guardCallback;
using sipreg::net::ownerOf;
using sipreg::net::UvHandle;
using sipreg::net::testing::LoopFixture;

TEST_CASE("a handle that was never initialised is freed at once") {
    UvHandle<uv_timer_t> h;
    CHECK(static_cast<bool>(h));
    CHECK_FALSE(h.initialised());
    h.reset();
    CHECK_FALSE(static_cast<bool>(h));
}

TEST_CASE("resetting an active handle detaches its owner; the close callback frees it") {
    LoopFixture fx;
    {
        int fired = 0;
        UvHandle<uv_timer_t> h;
        REQUIRE(uv_timer_init(&fx.loop, h.get()) == 0);
        h.get()->data = &fired;
        uv_timer_start(
            h.get(),
            [](uv_timer_t* t) {
                if (auto* count = ownerOf<int>(t)) ++*count;
            },
            0, 1);
        REQUIRE(fx.runUntil([&] { return fired >= 1; }));
        uv_timer_t* raw = h.get();
        h.reset();
        CHECK(raw->data == nullptr);
        CHECK(uv_is_closing(reinterpret_cast<uv_handle_t*>(raw)));
        const int before = fired;
        fx.runFor(5);
        CHECK(fired == before);
    }
    fx.finish();  // the close callback ran and freed the memory (ASan would see a leak)
}

TEST_CASE("moving a handle transfers ownership") {
    LoopFixture fx;
    {
        UvHandle<uv_timer_t> a;
        REQUIRE(uv_timer_init(&fx.loop, a.get()) == 0);
        uv_timer_t* raw = a.get();
        UvHandle<uv_timer_t> b(std::move(a));
        CHECK(b.get() == raw);
        CHECK_FALSE(static_cast<bool>(a));  // NOLINT(bugprone-use-after-move): checking the moved-from state
        UvHandle<uv_timer_t> c;
        c = std::move(b);
        CHECK(c.get() == raw);
    }
    fx.finish();
}

TEST_CASE("guardCallback stops exceptions at the C boundary") {
    bool after = false;
    guardCallback("test", [] { throw std::runtime_error("x"); });
    guardCallback("test", [] { throw 42; });
    guardCallback("test", [&] { after = true; });
    CHECK(after);
}
