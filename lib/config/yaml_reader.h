#pragma once
// Reading YAML document nodes with positions: every problem becomes a ConfigIssue naming
// file:line:column and the key path, and reading carries on so all problems are reported.
#include <chrono>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/config_issue.h"
#include "config/limits.h"
#include "config/yaml_document.h"

namespace sipreg::config::detail {

class Diagnostics {
public:
    explicit Diagnostics(std::string file) : file_(std::move(file)) {}

    void error(const Mark& at, std::string path, std::string message);
    void warning(const Mark& at, std::string path, std::string message);
    const std::string& file() const noexcept { return file_; }
    std::size_t errorCount() const noexcept { return errors_.size(); }

    std::vector<ConfigIssue> takeErrors() { return std::move(errors_); }
    std::vector<ConfigIssue> takeWarnings() { return std::move(warnings_); }

private:
    ConfigIssue make(const Mark& at, std::string path, std::string message) const;
    std::string file_;
    std::vector<ConfigIssue> errors_;
    std::vector<ConfigIssue> warnings_;
};

// One key of a map with its value, its position and its full key path.
struct Field {
    std::string key;
    const YamlNode& value;
    Mark keyMark;
    std::string path;
    // Where to point at for a problem with the value (falls back to the key).
    Mark mark() const;
};

// "a map", "a list", "an empty value", "a string" for "expected X, got Y" messages.
std::string describeKind(const YamlNode& node);

std::string joinPath(std::string_view parent, std::string_view key);
std::string indexPath(std::string_view parent, std::size_t index);

// A key this map used to accept, and the message telling where it went, so an old file
// gets directions rather than a bare "unknown key".
struct RetiredKey {
    std::string_view key;
    std::string_view message;
};

// A YAML map whose keys were checked against the allowed names: unknown keys (with a
// "did you mean" hint, or the retired key's message) and duplicated keys are reported
// when the view is built.
class MapView {
public:
    MapView(Diagnostics& diag, const YamlNode& map, const Mark& mark, std::string path,
            std::span<const std::string_view> allowed, std::span<const RetiredKey> retired = {});

    const Field* find(std::string_view key) const noexcept;
    const Mark& mark() const noexcept { return mark_; }
    const std::string& path() const noexcept { return path_; }
    void requireKey(std::string_view key, std::string_view what) const;

private:
    Diagnostics& diag_;
    Mark mark_;
    std::string path_;
    std::vector<Field> fields_;
};

// True when the node is a map; otherwise reports "expected a map" and returns false.
bool expectMap(Diagnostics& diag, const YamlNode& node, const Mark& at, const std::string& path,
               std::string_view what = "a map");

// Typed readers: on bad input they report at the value and return nullopt.
std::optional<std::string> readString(Diagnostics& diag, const Field& f, bool allowEmpty = false);
// A string without control characters (it ends up in a SIP header), at most maxLength bytes.
std::optional<std::string> readText(Diagnostics& diag, const Field& f, std::size_t maxLength, bool allowEmpty);
std::optional<bool> readBool(Diagnostics& diag, const Field& f);
std::optional<long long> readInt(Diagnostics& diag, const Field& f, limits::IntRange range);
std::optional<std::chrono::seconds> readDuration(Diagnostics& diag, const Field& f, limits::DurationRange range);

template <class T>
using Choices = std::initializer_list<std::pair<std::string_view, T>>;

// One of a fixed set of words (case-insensitive), with a hint for near misses.
template <class T>
std::optional<T> readChoice(Diagnostics& diag, const Field& f, Choices<T> choices);

// Non-template core of readChoice: index into `names`, or nullopt after reporting.
std::optional<std::size_t> readChoiceIndex(Diagnostics& diag, const Field& f, std::span<const std::string_view> names);

template <class T>
std::optional<T> readChoice(Diagnostics& diag, const Field& f, Choices<T> choices) {
    std::vector<std::string_view> names;
    names.reserve(choices.size());
    for (const auto& c : choices) names.push_back(c.first);
    auto index = readChoiceIndex(diag, f, names);
    if (!index) return std::nullopt;
    return (choices.begin() + *index)->second;
}

}  // namespace sipreg::config::detail
