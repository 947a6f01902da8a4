#include <doctest/doctest.h>

#include "reg/nat_tracker.h"

using namespace sipreg;
using namespace sipreg::reg;
using namespace std::chrono_literals;

namespace {
const TimePoint kT0{Duration{0}};
const HostPort kPrivate{"192.168.1.10", 5060};
}  // namespace

TEST_CASE("a NAT rewrite needs two consecutive responses agreeing on the public address") {
    NatTracker t;
    const HostPort pub{"203.0.113.5", 40000};
    CHECK_FALSE(t.observe(pub, kPrivate, kT0, 4));
    auto r = t.observe(pub, kPrivate, kT0 + 1s, 4);
    REQUIRE(r);
    CHECK(*r == pub);
}

TEST_CASE("a response agreeing with our Contact resets the candidate") {
    NatTracker t;
    const HostPort pub{"203.0.113.5", 40000};
    CHECK_FALSE(t.observe(pub, kPrivate, kT0, 4));
    CHECK_FALSE(t.observe(kPrivate, kPrivate, kT0 + 1s, 4));
    CHECK_FALSE(t.observe(pub, kPrivate, kT0 + 2s, 4));
    CHECK(t.observe(pub, kPrivate, kT0 + 3s, 4));
}

TEST_CASE("symmetric NAT: a new port in every response never triggers a rewrite") {
    NatTracker t;
    for (uint16_t i = 0; i < 50; ++i)
        CHECK_FALSE(t.observe({"203.0.113.5", static_cast<uint16_t>(40000 + i)}, kPrivate, kT0 + Duration{i * 1000}, 4));
}

TEST_CASE("no flipping back to an address the Contact already had, and a cap per hour") {
    NatTracker t;
    const HostPort a{"203.0.113.5", 40000};
    const HostPort b{"203.0.113.6", 40000};
    const HostPort c{"203.0.113.7", 40000};
    t.observe(a, kPrivate, kT0, 2);
    REQUIRE(t.observe(a, kPrivate, kT0, 2));
    t.observe(b, a, kT0 + 1s, 2);
    REQUIRE(t.observe(b, a, kT0 + 2s, 2));
    t.observe(a, b, kT0 + 3s, 2);
    CHECK_FALSE(t.observe(a, b, kT0 + 4s, 2));  // been there
    t.observe(c, b, kT0 + 5s, 2);
    CHECK_FALSE(t.observe(c, b, kT0 + 6s, 2));  // two in this hour already
    CHECK(t.rewritesInLastHour(kT0 + 6s) == 2);
    t.observe(c, b, kT0 + 3601s, 2);
    CHECK(t.observe(c, b, kT0 + 3602s, 2));     // the hour has passed
    CHECK_FALSE(NatTracker{}.observe(a, kPrivate, kT0, 0));
}
