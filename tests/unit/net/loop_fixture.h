#pragma once
// A real libuv loop for tests: a watchdog timer fails the test instead of hanging it, and
// finish() closes what is left and requires uv_loop_close() == 0, so every test that calls
// it is also a leak test.
#include <uv.h>

#include <doctest/doctest.h>

#include <chrono>
#include <cstdlib>
#include <functional>
#include <optional>
#include <string>

namespace sipreg::net::testing {

class LoopFixture {
public:
    explicit LoopFixture(std::chrono::milliseconds limit = std::chrono::milliseconds{5000}) {
        REQUIRE(uv_loop_init(&loop) == 0);
        REQUIRE(uv_timer_init(&loop, &watchdog_) == 0);
        watchdog_.data = this;
        uv_timer_start(
            &watchdog_,
            [](uv_timer_t* t) {
                auto* self = static_cast<LoopFixture*>(t->data);
                self->timedOut_ = true;
                uv_stop(t->loop);
            },
            static_cast<uint64_t>(limit.count()), 0);
    }
    ~LoopFixture() {
        if (!finished_) finish();
    }
    LoopFixture(const LoopFixture&) = delete;
    LoopFixture& operator=(const LoopFixture&) = delete;

    // Runs the loop one iteration at a time until `done` holds; false (and a failed
    // check) when the watchdog fires first.
    bool runUntil(const std::function<bool()>& done, const char* what = "condition") {
        while (!done()) {
            if (timedOut_) {
                FAIL_CHECK("watchdog fired while waiting for: " << what);
                return false;
            }
            uv_run(&loop, UV_RUN_ONCE);
        }
        return true;
    }

    // Runs the loop for about `ms` milliseconds of loop time.
    void runFor(uint64_t ms) {
        uv_timer_t t;
        bool done = false;
        uv_timer_init(&loop, &t);
        t.data = &done;
        uv_timer_start(&t, [](uv_timer_t* h) { *static_cast<bool*>(h->data) = true; }, ms, 0);
        runUntil([&] { return done; }, "runFor timer");
        uv_close(reinterpret_cast<uv_handle_t*>(&t), nullptr);
        uv_run(&loop, UV_RUN_NOWAIT);
    }

    bool timedOut() const { return timedOut_; }

    // Closes the watchdog, lets pending closes finish, and checks the loop is empty.
    void finish() {
        finished_ = true;
        uv_close(reinterpret_cast<uv_handle_t*>(&watchdog_), nullptr);
        for (int i = 0; i < 100 && uv_run(&loop, UV_RUN_NOWAIT) != 0; ++i) {
        }
        const int rc = uv_loop_close(&loop);
        CHECK_MESSAGE(rc == 0, "loop still has open handles: " << uv_err_name(rc));
        if (rc != 0) {
            // Close the leftovers so the failure does not cascade into later tests.
            uv_walk(
                &loop,
                [](uv_handle_t* h, void*) {
                    if (!uv_is_closing(h)) uv_close(h, nullptr);
                },
                nullptr);
            for (int i = 0; i < 100 && uv_run(&loop, UV_RUN_NOWAIT) != 0; ++i) {
            }
            uv_loop_close(&loop);
        }
    }

    uv_loop_t loop{};

private:
    uv_timer_t watchdog_{};
    bool timedOut_ = false;
    bool finished_ = false;
};

// Sets an environment variable for one test and restores the old value afterwards.
class ScopedEnv {
public:
    ScopedEnv(const char* name, const char* value) : name_(name) {
        if (const char* old = std::getenv(name)) old_ = old;
        if (value != nullptr) {
            setenv(name, value, 1);
        } else {
            unsetenv(name);
        }
    }
    ~ScopedEnv() {
        if (old_) {
            setenv(name_.c_str(), old_->c_str(), 1);
        } else {
            unsetenv(name_.c_str());
        }
    }
    ScopedEnv(const ScopedEnv&) = delete;
    ScopedEnv& operator=(const ScopedEnv&) = delete;

private:
    std::string name_;
    std::optional<std::string> old_;
};

}  // namespace sipreg::net::testing
