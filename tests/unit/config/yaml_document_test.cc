// The YAML document tree: shapes, positions, nulls, and what it refuses.
#include <doctest/doctest.h>

#include <string>

#include "config/limits.h"
#include "config/yaml_document.h"

using sipreg::config::detail::parseYamlDocument;
using sipreg::config::detail::YamlNode;

namespace {

void checkMark(const YamlNode& node, int line, int column) {
    CHECK(node.mark().line == line);
    CHECK(node.mark().column == column);
}

}  // namespace

TEST_CASE("maps, lists and scalars keep their order and 0-based positions") {
    const auto doc = parseYamlDocument("a: 1\nlist:\n  - x\n  - 'y'\nflow: { k: v }\na: 2\n");
    REQUIRE_FALSE(doc.error.has_value());
    const YamlNode& root = doc.root;
    REQUIRE(root.isMap());
    checkMark(root, 0, 0);
    REQUIRE(root.size() == 4);  // the repeated key is kept for the reader to report
    CHECK(root.entries()[0].first.scalar() == "a");
    CHECK(root.entries()[0].second.scalar() == "1");
    checkMark(root.entries()[0].second, 0, 3);
    const YamlNode& list = root.entries()[1].second;
    REQUIRE(list.isSequence());
    checkMark(list, 2, 2);
    REQUIRE(list.items().size() == 2);
    CHECK(list.items()[0].scalar() == "x");
    CHECK(list.items()[1].scalar() == "y");
    checkMark(list.items()[1], 3, 4);
    const YamlNode& flow = root.entries()[2].second;
    REQUIRE(flow.isMap());
    checkMark(flow, 4, 6);
    CHECK(flow.entries()[0].second.scalar() == "v");
    checkMark(root.entries()[3].first, 5, 0);
    CHECK(root.entries()[3].second.scalar() == "2");
}

TEST_CASE("only plain untagged ~, null, Null, NULL and empty are null") {
    const auto doc = parseYamlDocument(
        "- ~\n- null\n- Null\n- NULL\n-\n- 'null'\n- \"~\"\n- ''\n- nULL\n- !!str null\n- none\n");
    REQUIRE_FALSE(doc.error.has_value());
    const auto& items = doc.root.items();
    REQUIRE(items.size() == 11);
    for (std::size_t i = 0; i < 5; ++i) {
        CAPTURE(i);
        CHECK(items[i].isNull());
        CHECK(items[i].scalar().empty());
    }
    const char* texts[] = {"null", "~", "", "nULL", "null", "none"};
    for (std::size_t i = 5; i < items.size(); ++i) {
        CAPTURE(i);
        REQUIRE(items[i].isScalar());
        CHECK(items[i].scalar() == texts[i - 5]);
    }
}

TEST_CASE("an empty text is a null document without a position") {
    for (const char* text : {"", "# only a comment\n", "---\n"}) {
        CAPTURE(text);
        const auto doc = parseYamlDocument(text);
        CHECK_FALSE(doc.error.has_value());
        CHECK(doc.root.isNull());
    }
    CHECK(parseYamlDocument("").root.mark().line < 0);
}

TEST_CASE("aliases are refused at the alias, anchors alone are harmless") {
    const auto anchored = parseYamlDocument("a: &x 1\nb: 2\n");
    REQUIRE_FALSE(anchored.error.has_value());
    CHECK(anchored.root.entries()[0].second.scalar() == "1");

    const auto aliased = parseYamlDocument("a: &x 1\nb: *x\n");
    REQUIRE(aliased.error.has_value());
    CHECK(aliased.error->mark.line == 1);
    CHECK(aliased.error->mark.column == 3);
    CHECK(aliased.error->message.find("aliases") != std::string::npos);
}

TEST_CASE("a second document is refused where it starts") {
    const auto doc = parseYamlDocument("a: 1\n---\nb: 2\n");
    REQUIRE(doc.error.has_value());
    CHECK(doc.error->mark.line == 1);
    CHECK(doc.error->mark.column == 0);
    // An explicit end of the only document is fine.
    CHECK_FALSE(parseYamlDocument("---\na: 1\n...\n").error.has_value());
}

TEST_CASE("syntax and encoding errors carry libyaml's position") {
    const auto syntax = parseYamlDocument("a: b: c\n");
    REQUIRE(syntax.error.has_value());
    CHECK(syntax.error->mark.line == 0);
    CHECK(syntax.error->mark.column == 4);
    CHECK(syntax.error->message == "mapping values are not allowed in this context");

    const auto encoding = parseYamlDocument("a: 1\nb: \xff\n");
    REQUIRE(encoding.error.has_value());
    CHECK(encoding.error->mark.line == 1);
    CHECK(encoding.error->mark.column == 3);
    CHECK_FALSE(encoding.error->message.empty());
}

TEST_CASE("nesting is bounded") {
    const std::size_t limit = sipreg::config::limits::kMaxYamlNesting;
    const auto nested = [](std::size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); };
    const auto atLimit = parseYamlDocument(nested(limit));
    CHECK_FALSE(atLimit.error.has_value());
    CHECK(atLimit.root.isSequence());
    const auto beyond = parseYamlDocument(nested(limit + 1));
    REQUIRE(beyond.error.has_value());
    CHECK(beyond.error->mark.line == 0);
    CHECK(beyond.error->mark.column == static_cast<int>(limit));
    CHECK(beyond.error->message.find("nested") != std::string::npos);
    // Far deeper input is refused the same way, without exhausting the stack.
    CHECK(parseYamlDocument(nested(100000)).error.has_value());
}
