#pragma once
// A YAML document as a small tree built from libyaml's event parser: maps, lists, scalars and
// null, each with its position. Only what the configuration reader needs: one document, no
// aliases, tags ignored, nulls as in the YAML 1.2 core schema (plain ~, null, Null, NULL, empty).
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sipreg::config::detail {

// 0-based line and column; negative when unknown (e.g. the root of an empty document).
struct Mark {
    int line = -1;
    int column = -1;
};

class YamlNode {
public:
    enum class Kind { Null, Scalar, Sequence, Map };
    using Entry = std::pair<YamlNode, YamlNode>;

    YamlNode() = default;
    YamlNode(Kind kind, Mark mark) : kind_(kind), mark_(mark) {}

    Kind kind() const noexcept { return kind_; }
    bool isNull() const noexcept { return kind_ == Kind::Null; }
    bool isScalar() const noexcept { return kind_ == Kind::Scalar; }
    bool isSequence() const noexcept { return kind_ == Kind::Sequence; }
    bool isMap() const noexcept { return kind_ == Kind::Map; }
    const Mark& mark() const noexcept { return mark_; }

    // Empty unless isScalar().
    const std::string& scalar() const noexcept { return scalar_; }
    // Entries of a list; empty otherwise.
    const std::vector<YamlNode>& items() const noexcept { return items_; }
    // Key/value pairs of a map in document order, duplicates kept; empty otherwise.
    const std::vector<Entry>& entries() const noexcept { return entries_; }
    // Number of list items or map entries.
    std::size_t size() const noexcept { return isMap() ? entries_.size() : items_.size(); }

    void setScalar(std::string text) { scalar_ = std::move(text); }
    void addItem(YamlNode node) { items_.push_back(std::move(node)); }
    void addEntry(YamlNode key, YamlNode value) { entries_.emplace_back(std::move(key), std::move(value)); }

private:
    Kind kind_ = Kind::Null;
    Mark mark_;
    std::string scalar_;
    std::vector<YamlNode> items_;
    std::vector<Entry> entries_;
};

struct YamlSyntaxError {
    Mark mark;
    std::string message;
};

struct YamlDocument {
    YamlNode root;
    std::optional<YamlSyntaxError> error;  // set when the text is not one valid document
};

YamlDocument parseYamlDocument(std::string_view text);

}  // namespace sipreg::config::detail
