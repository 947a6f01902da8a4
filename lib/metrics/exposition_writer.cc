#include "metrics/exposition_writer.h"

#include <charconv>
#include <cmath>

namespace sipreg::metrics {

namespace {

// Appends `text` with the characters in `special` escaped; runs without any are appended
// whole, which is nearly always the entire value.
void appendEscaped(std::string& out, std::string_view text, std::string_view special) {
    std::size_t from = 0;
    while (true) {
        const std::size_t at = text.find_first_of(special, from);
        if (at == std::string_view::npos) {
            out.append(text.substr(from));
            return;
        }
        out.append(text.substr(from, at - from));
        out += '\\';
        out += text[at] == '\n' ? 'n' : text[at];
        from = at + 1;
    }
}

}  // namespace

void appendEscapedLabelValue(std::string& out, std::string_view value) {
    appendEscaped(out, value, std::string_view("\\\"\n", 3));
}

void appendEscapedHelp(std::string& out, std::string_view help) { appendEscaped(out, help, std::string_view("\\\n", 2)); }

void appendValue(std::string& out, uint64_t value) {
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof buf, value);
    out.append(buf, r.ptr);
}

void appendValue(std::string& out, double value) {
    if (std::isnan(value)) {
        out += "NaN";
        return;
    }
    if (std::isinf(value)) {
        out += value > 0 ? "+Inf" : "-Inf";
        return;
    }
    char buf[32];
    auto r = std::to_chars(buf, buf + sizeof buf, value);
    out.append(buf, r.ptr);
}

std::string labelPrefix(std::string_view name, std::string_view value) {
    std::string s;
    s.reserve(name.size() + value.size() + 4);
    s.append(name);
    s += "=\"";
    appendEscapedLabelValue(s, value);
    s += '"';
    return s;
}

void ExpositionWriter::family(std::string_view name, MetricType type, std::string_view help) {
    out_ += "# HELP ";
    out_ += name;
    out_ += ' ';
    appendEscapedHelp(out_, help);
    out_ += "\n# TYPE ";
    out_ += name;
    out_ += type == MetricType::Counter ? " counter\n" : type == MetricType::Gauge ? " gauge\n" : " histogram\n";
}

template <class V>
void ExpositionWriter::write(std::string_view name, std::string_view prefix, std::initializer_list<Label> labels,
                             V value) {
    out_ += name;
    if (!prefix.empty() || labels.size() != 0) {
        out_ += '{';
        out_ += prefix;
        bool first = prefix.empty();
        for (const Label& l : labels) {
            if (!first) out_ += ',';
            first = false;
            out_ += l.name;
            out_ += "=\"";
            appendEscapedLabelValue(out_, l.value);
            out_ += '"';
        }
        out_ += '}';
    }
    out_ += ' ';
    appendValue(out_, value);
    out_ += '\n';
}

void ExpositionWriter::sample(std::string_view name, std::initializer_list<Label> labels, double value) {
    write(name, {}, labels, value);
}
void ExpositionWriter::sample(std::string_view name, std::initializer_list<Label> labels, uint64_t value) {
    write(name, {}, labels, value);
}
void ExpositionWriter::sampleWithPrefix(std::string_view name, std::string_view prefix,
                                        std::initializer_list<Label> labels, double value) {
    write(name, prefix, labels, value);
}
void ExpositionWriter::sampleWithPrefix(std::string_view name, std::string_view prefix,
                                        std::initializer_list<Label> labels, uint64_t value) {
    write(name, prefix, labels, value);
}

}  // namespace sipreg::metrics
