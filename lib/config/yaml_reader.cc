#include "config/yaml_reader.h"

#include <algorithm>

#include "config/duration.h"
#include "config/key_suggestion.h"

namespace sipreg::config::detail {

namespace {

bool hasMark(const Mark& m) { return m.line >= 0 && m.column >= 0; }

std::string lowerCopy(std::string_view s) {
    std::string out(s);
    for (char& c : out) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return out;
}

// Built by appending: "'" + std::string + "'" trips a GCC 12 -Wrestrict false positive in Release.
std::string quoted(std::string_view s) {
    std::string out;
    out.reserve(s.size() + 2);
    out += '\'';
    out.append(s);
    out += '\'';
    return out;
}

bool scalarOrReport(Diagnostics& diag, const Field& f, std::string_view expected) {
    if (f.value.isScalar()) return true;
    diag.error(f.mark(), f.path, "expected " + std::string(expected) + ", got " + describeKind(f.value));
    return false;
}

std::string listNames(std::span<const std::string_view> names) {
    std::string out;
    for (std::size_t i = 0; i < names.size(); ++i) {
        if (i > 0) out += (i + 1 == names.size()) ? " or " : ", ";
        out += names[i];
    }
    return out;
}

}  // namespace

ConfigIssue Diagnostics::make(const Mark& at, std::string path, std::string message) const {
    ConfigIssue issue;
    issue.file = file_;
    if (hasMark(at)) {
        issue.line = at.line + 1;
        issue.column = at.column + 1;
    }
    issue.path = std::move(path);
    issue.message = std::move(message);
    return issue;
}

void Diagnostics::error(const Mark& at, std::string path, std::string message) {
    errors_.push_back(make(at, std::move(path), std::move(message)));
}

void Diagnostics::warning(const Mark& at, std::string path, std::string message) {
    warnings_.push_back(make(at, std::move(path), std::move(message)));
}

Mark Field::mark() const {
    Mark m = value.mark();
    return hasMark(m) ? m : keyMark;
}

std::string describeKind(const YamlNode& node) {
    if (node.isNull()) return "an empty value";
    if (node.isMap()) return "a map";
    if (node.isSequence()) return "a list";
    return "'" + node.scalar() + "'";
}

std::string joinPath(std::string_view parent, std::string_view key) {
    if (parent.empty()) return std::string(key);
    std::string out(parent);
    out += '.';
    out += key;
    return out;
}

std::string indexPath(std::string_view parent, std::size_t index) {
    return std::string(parent) + "[" + std::to_string(index) + "]";
}

MapView::MapView(Diagnostics& diag, const YamlNode& map, const Mark& mark, std::string path,
                 std::span<const std::string_view> allowed, std::span<const RetiredKey> retired)
    : diag_(diag), mark_(hasMark(map.mark()) ? map.mark() : mark), path_(std::move(path)) {
    if (!map.isMap()) return;
    fields_.reserve(map.size());
    for (const YamlNode::Entry& entry : map.entries()) {
        const YamlNode& keyNode = entry.first;
        if (!keyNode.isScalar()) {
            diag_.error(keyNode.mark(), path_, "keys must be plain names, got " + describeKind(keyNode));
            continue;
        }
        std::string key = keyNode.scalar();
        std::string fieldPath = joinPath(path_, key);
        if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
            const auto old = std::find_if(retired.begin(), retired.end(),
                                          [&](const RetiredKey& r) { return r.key == key; });
            if (old != retired.end()) {
                diag_.error(keyNode.mark(), fieldPath, std::string(old->message));
                continue;
            }
            std::string message = "unknown key " + quoted(key);
            if (auto hint = suggestClosest(key, allowed)) {
                message += "; did you mean " + quoted(*hint) + "?";
            } else {
                message += " (expected " + listNames(allowed) + ")";
            }
            diag_.error(keyNode.mark(), fieldPath, std::move(message));
            continue;
        }
        if (const Field* first = find(key)) {
            diag_.error(keyNode.mark(), fieldPath,
                        "duplicate key " + quoted(key) + " (first given at line " +
                            std::to_string(first->keyMark.line + 1) + ")");
            continue;
        }
        fields_.push_back(Field{std::move(key), entry.second, keyNode.mark(), std::move(fieldPath)});
    }
}

const Field* MapView::find(std::string_view key) const noexcept {
    for (const Field& f : fields_) {
        if (f.key == key) return &f;
    }
    return nullptr;
}

void MapView::requireKey(std::string_view key, std::string_view what) const {
    if (find(key)) return;
    diag_.error(mark_, path_, "missing required key " + quoted(key) + " (" + std::string(what) + ")");
}

bool expectMap(Diagnostics& diag, const YamlNode& node, const Mark& at, const std::string& path,
               std::string_view what) {
    if (node.isMap()) return true;
    const Mark m = hasMark(node.mark()) ? node.mark() : at;
    diag.error(m, path, "expected " + std::string(what) + ", got " + describeKind(node));
    return false;
}

std::optional<std::string> readString(Diagnostics& diag, const Field& f, bool allowEmpty) {
    if (!scalarOrReport(diag, f, "a string")) return std::nullopt;
    const std::string& s = f.value.scalar();
    if (s.empty() && !allowEmpty) {
        diag.error(f.mark(), f.path, "must not be empty");
        return std::nullopt;
    }
    return s;
}

std::optional<std::string> readText(Diagnostics& diag, const Field& f, std::size_t maxLength, bool allowEmpty) {
    auto s = readString(diag, f, allowEmpty);
    if (!s) return std::nullopt;
    if (s->size() > maxLength) {
        diag.error(f.mark(), f.path, "must be at most " + std::to_string(maxLength) + " bytes long");
        return std::nullopt;
    }
    for (char c : *s) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f) {
            diag.error(f.mark(), f.path, "must not contain control characters (line breaks, tabs)");
            return std::nullopt;
        }
    }
    return s;
}

std::optional<bool> readBool(Diagnostics& diag, const Field& f) {
    if (!scalarOrReport(diag, f, "true or false")) return std::nullopt;
    const std::string word = lowerCopy(f.value.scalar());
    if (word == "true") return true;
    if (word == "false") return false;
    diag.error(f.mark(), f.path, "expected true or false, got " + quoted(f.value.scalar()));
    return std::nullopt;
}

std::optional<long long> readInt(Diagnostics& diag, const Field& f, limits::IntRange range) {
    if (!scalarOrReport(diag, f, "a whole number")) return std::nullopt;
    const std::string& s = f.value.scalar();
    std::size_t i = 0;
    bool negative = false;
    if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
        negative = s[0] == '-';
        i = 1;
    }
    long long value = 0;
    bool digits = false;
    for (; i < s.size(); ++i) {
        if (s[i] < '0' || s[i] > '9') {
            digits = false;
            break;
        }
        digits = true;
        // Stop accumulating once far out of any range; the range check below reports it.
        if (value < 1'000'000'000'000LL) value = value * 10 + (s[i] - '0');
    }
    if (!digits) {
        diag.error(f.mark(), f.path, "expected a whole number, got " + quoted(s));
        return std::nullopt;
    }
    if (negative) value = -value;
    if (value < range.min || value > range.max) {
        diag.error(f.mark(), f.path,
                   "must be between " + std::to_string(range.min) + " and " + std::to_string(range.max) +
                       " (got " + s + ")");
        return std::nullopt;
    }
    return value;
}

std::optional<std::chrono::seconds> readDuration(Diagnostics& diag, const Field& f, limits::DurationRange range) {
    if (!scalarOrReport(diag, f, "a duration (" + std::string(kDurationForms) + ")")) return std::nullopt;
    auto parsed = parseDuration(f.value.scalar());
    if (!parsed) {
        diag.error(f.mark(), f.path, parsed.error().message);
        return std::nullopt;
    }
    if (*parsed < range.min || *parsed > range.max) {
        diag.error(f.mark(), f.path,
                   "must be between " + formatDuration(range.min) + " and " + formatDuration(range.max) +
                       " (got " + f.value.scalar() + ")");
        return std::nullopt;
    }
    return *parsed;
}

std::optional<std::size_t> readChoiceIndex(Diagnostics& diag, const Field& f, std::span<const std::string_view> names) {
    const std::string expected = "one of " + listNames(names);
    if (!scalarOrReport(diag, f, expected)) return std::nullopt;
    const std::string word = lowerCopy(f.value.scalar());
    for (std::size_t i = 0; i < names.size(); ++i) {
        if (lowerCopy(names[i]) == word) return i;
    }
    std::string message = "expected " + expected + ", got " + quoted(f.value.scalar());
    if (auto hint = suggestClosest(f.value.scalar(), names)) message += "; did you mean " + quoted(*hint) + "?";
    diag.error(f.mark(), f.path, std::move(message));
    return std::nullopt;
}

}  // namespace sipreg::config::detail
