#include <doctest/doctest.h>

#include "app/status_summary.h"

using namespace sipreg;

TEST_CASE("status line names registered and only the non-empty other states") {
    app::StateCounts c;
    c.total = 420;
    c[reg::State::Registered] = 412;
    c[reg::State::Waiting] = 6;
    c[reg::State::Failed] = 2;
    CHECK(app::statusLine(c) == "412/420 registered, 6 waiting, 2 failed");
    c[reg::State::Registering] = 1;
    CHECK(app::statusLine(c) == "412/420 registered, 1 registering, 6 waiting, 2 failed");
    app::StateCounts none;
    CHECK(app::statusLine(none) == "0/0 registered");
}
