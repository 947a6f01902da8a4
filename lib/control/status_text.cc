#include "control/status_text.h"

#include <time.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <vector>

namespace sipreg::control {
namespace {

using nlohmann::json;

std::string text(const json& object, const char* key, std::string fallback = "-") {
    if (!object.is_object()) return fallback;
    auto it = object.find(key);
    if (it == object.end() || !it->is_string()) return fallback;
    std::string s = it->get<std::string>();
    return s.empty() ? fallback : s;
}

std::optional<int64_t> integer(const json& object, const char* key) {
    if (!object.is_object()) return std::nullopt;
    auto it = object.find(key);
    if (it == object.end() || !it->is_number()) return std::nullopt;
    if (it->is_number_float()) {
        const double d = it->get<double>();
        if (!std::isfinite(d) || std::fabs(d) > 9e15) return std::nullopt;
        return static_cast<int64_t>(d);
    }
    if (it->is_number_unsigned()) {
        return static_cast<int64_t>(std::min<uint64_t>(it->get<uint64_t>(), INT64_MAX));
    }
    return it->get<int64_t>();
}

std::string seconds(const json& object, const char* key) {
    auto v = integer(object, key);
    return v ? formatDuration(*v) : "-";
}

const json& member(const json& object, const char* key) {
    static const json kNull;
    if (!object.is_object()) return kNull;
    auto it = object.find(key);
    return it == object.end() ? kNull : *it;
}

std::string localTime(int64_t unixSeconds, bool withDate) {
    const time_t t = static_cast<time_t>(unixSeconds);
    struct tm tm {};
    if (localtime_r(&t, &tm) == nullptr) return "-";
    std::array<char, 32> buf{};
    const std::size_t n = std::strftime(buf.data(), buf.size(), withDate ? "%Y-%m-%d %H:%M:%S" : "%H:%M:%S", &tm);
    return std::string(buf.data(), n);
}

std::string response(const json& line) {
    auto code = integer(line, "last_code");
    std::string reason = text(line, "last_reason", "");
    if (code) return reason.empty() ? std::to_string(*code) : std::to_string(*code) + " " + reason;
    return reason.empty() ? "-" : reason;
}

std::string nextAction(const json& line) {
    std::string action = text(line, "next_action", "");
    if (action.empty()) return "-";
    auto in = integer(line, "next_action_in");
    return in ? action + " in " + formatDuration(*in) : action;
}

std::string change(const json& c, std::optional<int64_t> now) {
    if (!c.is_object()) return "-";
    std::string out = text(c, "from") + " -> " + text(c, "to");
    auto at = integer(c, "at");
    if (at && now) out += " " + formatDuration(std::max<int64_t>(0, *now - *at)) + " ago";
    return out;
}

std::string joined(const json& list) {
    if (!list.is_array() || list.empty()) return "-";
    std::string out;
    for (const auto& v : list) {
        if (!out.empty()) out += ", ";
        out += v.is_string() ? v.get<std::string>() : v.dump(-1, ' ', false, json::error_handler_t::replace);
    }
    return out;
}

std::string table(const std::vector<std::vector<std::string>>& rows) {
    std::vector<std::size_t> width;
    for (const auto& row : rows) {
        width.resize(std::max(width.size(), row.size()));
        for (std::size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
    }
    std::string out;
    for (const auto& row : rows) {
        std::string line;
        for (std::size_t i = 0; i < row.size(); ++i) {
            line += row[i];
            if (i + 1 < row.size()) line.append(width[i] - row[i].size() + 2, ' ');
        }
        out += line + "\n";
    }
    return out;
}

}  // namespace

std::string formatDuration(int64_t s) {
    if (s < 0) return "-" + formatDuration(-std::max<int64_t>(s, -INT64_MAX));
    auto two = [](int64_t v) { return (v < 10 ? "0" : "") + std::to_string(v); };
    if (s < 60) return std::to_string(s) + "s";
    if (s < 3600) return std::to_string(s / 60) + "m" + two(s % 60) + "s";
    if (s < 86400) return std::to_string(s / 3600) + "h" + two(s % 3600 / 60) + "m";
    return std::to_string(s / 86400) + "d" + two(s % 86400 / 3600) + "h";
}

std::string renderStatusTable(const json& reply) {
    const auto now = integer(reply, "now");
    std::vector<std::vector<std::string>> rows{
        {"ID", "STATE", "REGISTRAR", "TRANSPORT", "GRANTED", "NEXT", "LAST RESPONSE", "FAILS", "LAST CHANGE"}};
    const json& lines = member(reply, "lines");
    if (lines.is_array()) {
        for (const auto& l : lines) {
            auto failures = integer(l, "failures");
            rows.push_back({text(l, "id"), text(l, "state"), text(l, "registrar"), text(l, "transport"),
                            seconds(l, "granted"), nextAction(l), response(l),
                            failures ? std::to_string(*failures) : "-", change(member(l, "last_change"), now)});
        }
    }
    std::string out = table(rows);
    const json& counts = member(reply, "counts");
    if (counts.is_object()) {
        std::string summary = std::to_string(integer(counts, "registered").value_or(0)) + "/" +
                              std::to_string(integer(counts, "total").value_or(0)) + " registered";
        for (const char* s : {"registering", "waiting", "failed", "unregistering", "stopped"}) {
            if (auto n = integer(counts, s); n && *n > 0) summary += ", " + std::to_string(*n) + " " + s;
        }
        out += summary + "\n";
    }
    return out;
}

std::string renderShow(const json& reply) {
    const json& l = member(reply, "line");
    const auto now = integer(reply, "now");
    std::string transport = text(l, "transport");
    if (std::string target = text(l, "target", ""); !target.empty()) transport += " (" + target + ")";
    std::vector<std::vector<std::string>> rows{
        {"line:", text(l, "id")},
        {"state:", text(l, "state")},
        {"registrar:", text(l, "registrar")},
        {"outbound proxy:", text(l, "outbound_proxy")},
        {"transport:", transport},
        {"granted expiry:", seconds(l, "granted")},
        {"expires in:", seconds(l, "expires_in")},
        {"next action:", nextAction(l)},
        {"last response:", response(l)},
        {"failures:", integer(l, "failures") ? std::to_string(*integer(l, "failures")) : "-"},
        {"last change:", change(member(l, "last_change"), now)},
    };
    if (std::string err = text(l, "setup_error", ""); !err.empty()) rows.push_back({"setup error:", err});
    std::string out = table(rows);
    const json& counters = member(l, "counters");
    if (counters.is_object() && !counters.empty()) {
        std::string line = "counters:";
        for (const auto& item : counters.items()) {
            line += " " + item.key() + "=" + item.value().dump(-1, ' ', false, json::error_handler_t::replace);
        }
        out += line + "\n";
    }
    const json& history = member(l, "history");
    out += "history (oldest first):\n";
    if (!history.is_array() || history.empty()) {
        out += "  (no state changes yet)\n";
        return out;
    }
    std::vector<std::vector<std::string>> hist;
    for (const auto& h : history) {
        auto at = integer(h, "at");
        auto code = integer(h, "code");
        hist.push_back({"  " + (at ? localTime(*at, true) : std::string("-")), text(h, "from") + " -> " + text(h, "to"),
                        code ? std::to_string(*code) : "-", text(h, "text", "")});
    }
    return out + table(hist);
}

std::string renderReload(const json& reply) {
    std::string out;
    const bool applied = member(reply, "applied").is_boolean() && member(reply, "applied").get<bool>();
    if (applied) {
        auto count = [&](const char* key) {
            const json& v = member(reply, key);
            return v.is_array() ? v.size() : 0;
        };
        out += "reload applied: " + std::to_string(count("added")) + " added, " + std::to_string(count("removed")) +
               " removed, " + std::to_string(count("changed")) + " changed, " +
               std::to_string(integer(reply, "unchanged").value_or(0)) + " unchanged\n";
        for (const char* key : {"added", "removed", "changed"}) {
            if (count(key) > 0) out += std::string("  ") + key + ": " + joined(member(reply, key)) + "\n";
        }
        if (member(reply, "global_changed").is_boolean() && member(reply, "global_changed").get<bool>()) {
            out += "  global settings changed\n";
        }
    } else {
        out += "reload refused; the running configuration stays in force\n";
        const json& errors = member(reply, "errors");
        if (errors.is_array()) {
            for (const auto& e : errors) {
                if (e.is_string()) out += e.get<std::string>() + "\n";
            }
        }
    }
    const json& warnings = member(reply, "warnings");
    if (warnings.is_array()) {
        for (const auto& w : warnings) {
            if (w.is_string()) out += w.get<std::string>() + "\n";
        }
    }
    return out;
}

std::string renderTrace(const json& event) {
    std::string when = "-";
    const json& at = member(event, "at");
    if (at.is_number()) {
        const double t = at.get<double>();
        if (std::isfinite(t) && t >= 0 && t < 1e12) {
            const auto whole = static_cast<int64_t>(t);
            const auto ms = static_cast<int>((t - static_cast<double>(whole)) * 1000.0);
            std::string frac = std::to_string(1000 + std::clamp(ms, 0, 999)).substr(1);
            when = localTime(whole, false) + "." + frac;
        }
    }
    const std::string line = text(event, "line", "(no line)");
    const std::string direction = text(event, "direction", "") == "out" ? "sent to" : "received from";
    std::string out = "--- " + when + " " + line + " " + direction + " " + text(event, "peer") + "\n";
    std::string message = text(event, "message", "");
    std::string body;
    body.reserve(message.size());
    for (std::size_t i = 0; i < message.size(); ++i) {
        if (message[i] == '\r' && i + 1 < message.size() && message[i + 1] == '\n') continue;
        body.push_back(message[i]);
    }
    while (!body.empty() && body.back() == '\n') body.pop_back();
    return out + body + "\n\n";
}

}  // namespace sipreg::control
