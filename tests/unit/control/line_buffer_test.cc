#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "control/line_buffer.h"

using sipreg::control::LineBuffer;

TEST_CASE("lines split across reads are joined; CRLF and LF both end a line") {
    LineBuffer b(100);
    std::vector<std::string> out;
    CHECK(b.feed("{\"cmd\":\"sta", out));
    CHECK(out.empty());
    CHECK(b.pending() == 11);
    CHECK(b.feed("tus\"}\r\n{\"cmd\":\"check\"}\n{\"cmd\"", out));
    REQUIRE(out.size() == 2);
    CHECK(out[0] == "{\"cmd\":\"status\"}");
    CHECK(out[1] == "{\"cmd\":\"check\"}");
    CHECK(b.pending() == 6);
}

TEST_CASE("a line of exactly the bound fits; one byte more overflows for good") {
    LineBuffer b(10);
    std::vector<std::string> out;
    CHECK(b.feed(std::string(10, 'x') + "\n", out));
    REQUIRE(out.size() == 1);
    CHECK(out[0].size() == 10);

    out.clear();
    CHECK(b.feed(std::string(6, 'y'), out));
    CHECK_FALSE(b.feed(std::string(5, 'y'), out));
    CHECK(b.overflowed());
    CHECK(b.pending() == 0);
    CHECK_FALSE(b.feed("\n", out));
    CHECK(out.empty());
}
