#pragma once
// Writes the Prometheus text exposition format (version 0.0.4) into one string: a family's
// "# HELP" and "# TYPE" lines, then its samples. The caller emits every sample of a family
// right after its header, which is what the format requires of a metric name.
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

namespace sipreg::metrics {

enum class MetricType { Counter, Gauge, Histogram };

struct Label {
    std::string_view name;
    std::string_view value;  // raw; escaped on output
};

// Label values escape backslash, double quote and line feed ("\\", "\"", "\n").
void appendEscapedLabelValue(std::string& out, std::string_view value);
// HELP text escapes backslash and line feed only.
void appendEscapedHelp(std::string& out, std::string_view help);
// Integers as digits; other numbers in the shortest form that reads back the same;
// NaN and the infinities as "NaN", "+Inf", "-Inf".
void appendValue(std::string& out, double value);
void appendValue(std::string& out, uint64_t value);

class ExpositionWriter {
public:
    explicit ExpositionWriter(std::string& out) : out_(out) {}

    void family(std::string_view name, MetricType type, std::string_view help);

    void sample(std::string_view name, std::initializer_list<Label> labels, double value);
    void sample(std::string_view name, std::initializer_list<Label> labels, uint64_t value);

    // For many samples sharing their first labels: `prefix` is written between the name and
    // the remaining labels verbatim, and must come from labelPrefix().
    void sampleWithPrefix(std::string_view name, std::string_view prefix, std::initializer_list<Label> labels,
                          double value);
    void sampleWithPrefix(std::string_view name, std::string_view prefix, std::initializer_list<Label> labels,
                          uint64_t value);

    std::string& out() noexcept { return out_; }

private:
    template <class V>
    void write(std::string_view name, std::string_view prefix, std::initializer_list<Label> labels, V value);

    std::string& out_;
};

// `line="a\"b"`: one label, escaped, for sampleWithPrefix().
std::string labelPrefix(std::string_view name, std::string_view value);

}  // namespace sipreg::metrics
