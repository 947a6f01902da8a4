#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <string>

#include "metrics/exposition_writer.h"

using namespace sipreg::metrics;

TEST_CASE("label values escape backslash, double quote and line feed, nothing else") {
    std::string out;
    appendEscapedLabelValue(out, "a\\b\"c\nd\te");
    CHECK(out == "a\\\\b\\\"c\\nd\te");
}

TEST_CASE("help text escapes backslash and line feed but keeps quotes") {
    std::string out;
    appendEscapedHelp(out, "say \"hi\"\\\nbye");
    CHECK(out == "say \"hi\"\\\\\\nbye");
}

TEST_CASE("values: integers as digits, fractions shortest, special values by name") {
    auto text = [](auto v) {
        std::string s;
        appendValue(s, v);
        return s;
    };
    CHECK(text(uint64_t{0}) == "0");
    CHECK(text(std::numeric_limits<uint64_t>::max()) == "18446744073709551615");
    CHECK(text(1.5) == "1.5");
    CHECK(text(3600.0) == "3600");
    CHECK(text(0.001) == "0.001");
    CHECK(text(std::numeric_limits<double>::quiet_NaN()) == "NaN");
    CHECK(text(std::numeric_limits<double>::infinity()) == "+Inf");
    CHECK(text(-std::numeric_limits<double>::infinity()) == "-Inf");
}

TEST_CASE("a family is a HELP line, a TYPE line and its samples with escaped labels") {
    std::string out;
    ExpositionWriter w(out);
    w.family("x_total", MetricType::Counter, "things\ncounted");
    w.sample("x_total", {{"a", "1"}, {"b", "q\""}}, uint64_t{7});
    w.sample("x_total", {}, 2.5);
    w.family("y", MetricType::Gauge, "a gauge");
    const std::string prefix = labelPrefix("line", "l\\1");
    w.sampleWithPrefix("y", prefix, {}, uint64_t{1});
    w.sampleWithPrefix("y", prefix, {{"state", "up"}}, uint64_t{0});
    CHECK(out ==
          "# HELP x_total things\\ncounted\n"
          "# TYPE x_total counter\n"
          "x_total{a=\"1\",b=\"q\\\"\"} 7\n"
          "x_total 2.5\n"
          "# HELP y a gauge\n"
          "# TYPE y gauge\n"
          "y{line=\"l\\\\1\"} 1\n"
          "y{line=\"l\\\\1\",state=\"up\"} 0\n");
}
