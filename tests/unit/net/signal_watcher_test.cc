#include "net/signal_watcher.h"

#include <doctest/doctest.h>

#include <csignal>
#include <vector>

#include "loop_fixture.h"

using sipreg::net::SignalWatcher;
using sipreg::net::testing::LoopFixture;

TEST_CASE("SIGHUP, SIGINT and SIGTERM arrive as loop callbacks") {
    LoopFixture fx;
    {
        std::vector<int> seen;
        SignalWatcher watcher(&fx.loop, [&](int signum) { seen.push_back(signum); });
        REQUIRE(watcher.start().ok());
        for (int sig : {SIGHUP, SIGINT, SIGTERM}) {
            const auto before = seen.size();
            REQUIRE(raise(sig) == 0);
            REQUIRE(fx.runUntil([&] { return seen.size() == before + 1; }, "signal callback"));
            CHECK(seen.back() == sig);
        }
        watcher.close();
    }
    fx.finish();
}

TEST_CASE("the signal handles do not keep the loop alive") {
    uv_loop_t loop;
    REQUIRE(uv_loop_init(&loop) == 0);
    {
        SignalWatcher watcher(&loop, [](int) {});
        REQUIRE(watcher.start().ok());
        REQUIRE_FALSE(uv_loop_alive(&loop));
        CHECK(uv_run(&loop, UV_RUN_DEFAULT) == 0);  // returns at once instead of blocking
    }
    uv_run(&loop, UV_RUN_NOWAIT);
    CHECK(uv_loop_close(&loop) == 0);
}

TEST_CASE("SIGPIPE is ignored once asked") {
    SignalWatcher::ignoreSigpipe();
    struct sigaction current {};
    REQUIRE(sigaction(SIGPIPE, nullptr, &current) == 0);
    CHECK((current.sa_handler == SIG_IGN));
    CHECK(raise(SIGPIPE) == 0);  // the process is still here
}
