#include "config/duration.h"

#include <cstdint>

namespace sipreg::config {

namespace {

// Ten years: far beyond any sensible setting, small enough that sums cannot overflow.
constexpr int64_t kMaxSeconds = int64_t{10} * 365 * 24 * 3600;

int64_t unitSeconds(char unit) {
    switch (unit) {
        case 's': return 1;
        case 'm': return 60;
        case 'h': return 3600;
        case 'd': return 86400;
        default: return 0;
    }
}

bool isDigit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

Result<std::chrono::seconds> parseDuration(std::string_view text) {
    auto malformed = [&] {
        return makeError("expected a duration: " + std::string(kDurationForms) + "; got '" +
                         std::string(text) + "'");
    };
    if (text.empty()) return malformed();

    int64_t total = 0;
    std::size_t i = 0;
    int parts = 0;
    while (i < text.size()) {
        if (!isDigit(text[i])) return malformed();
        int64_t number = 0;
        while (i < text.size() && isDigit(text[i])) {
            number = number * 10 + (text[i] - '0');
            if (number > kMaxSeconds) return makeError("duration '" + std::string(text) + "' is too long");
            ++i;
        }
        ++parts;
        if (i == text.size()) {
            // A bare number is seconds, but only on its own: "1h30" is ambiguous.
            if (parts > 1) return malformed();
            total = number;
            break;
        }
        int64_t unit = unitSeconds(text[i]);
        if (unit == 0) return malformed();
        ++i;
        total += number * unit;
        if (total > kMaxSeconds) return makeError("duration '" + std::string(text) + "' is too long");
    }
    return std::chrono::seconds{total};
}

std::string formatDuration(std::chrono::seconds d) {
    int64_t s = d.count();
    if (s == 0) return "0s";
    std::string out;
    if (s < 0) {
        out = "-";
        s = -s;
    }
    const struct { int64_t size; char unit; } units[] = {{86400, 'd'}, {3600, 'h'}, {60, 'm'}, {1, 's'}};
    for (const auto& u : units) {
        if (s >= u.size) {
            out += std::to_string(s / u.size);
            out += u.unit;
            s %= u.size;
        }
    }
    return out;
}

}  // namespace sipreg::config
