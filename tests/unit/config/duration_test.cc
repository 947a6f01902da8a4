#include <doctest/doctest.h>

#include "config/duration.h"

using namespace std::chrono_literals;
using sipreg::config::formatDuration;
using sipreg::config::parseDuration;

TEST_CASE("durations: bare seconds and unit forms") {
    CHECK(parseDuration("0").value() == 0s);
    CHECK(parseDuration("600").value() == 600s);
    CHECK(parseDuration("30s").value() == 30s);
    CHECK(parseDuration("5m").value() == 300s);
    CHECK(parseDuration("1h").value() == 3600s);
    CHECK(parseDuration("1d").value() == 86400s);
    CHECK(parseDuration("1h30m").value() == 5400s);
    CHECK(parseDuration("1d2h3m4s").value() == 93784s);
}

TEST_CASE("durations: malformed text is an error that lists the accepted forms") {
    for (const char* bad : {"", "5 minutes", "5min", "1.5h", "-5s", "h", "1h30", "s5", " 5s", "5s ", "5S", "1w"}) {
        CAPTURE(bad);
        auto r = parseDuration(bad);
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().message.find("e.g. 600, 30s, 5m, 1h") != std::string::npos);
    }
}

TEST_CASE("durations: absurd values are refused instead of overflowing") {
    CHECK_FALSE(parseDuration("99999999999999999999").ok());
    CHECK_FALSE(parseDuration("999999999d").ok());
    CHECK(parseDuration("99999999999999999999").error().message == "duration '99999999999999999999' is too long");
}

TEST_CASE("formatDuration picks the shortest exact form") {
    CHECK(formatDuration(0s) == "0s");
    CHECK(formatDuration(10s) == "10s");
    CHECK(formatDuration(90s) == "1m30s");
    CHECK(formatDuration(3600s) == "1h");
    CHECK(formatDuration(86400s) == "1d");
    CHECK(formatDuration(93784s) == "1d2h3m4s");
}
