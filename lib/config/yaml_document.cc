#include "config/yaml_document.h"

#include <yaml.h>

#include "config/limits.h"

namespace sipreg::config::detail {

namespace {

Mark markOf(const yaml_mark_t& m) { return Mark{static_cast<int>(m.line), static_cast<int>(m.column)}; }

// libyaml reports input (encoding) problems by byte offset only.
Mark markAtOffset(std::string_view text, std::size_t offset) {
    Mark m{0, 0};
    for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
        if (text[i] == '\n') {
            ++m.line;
            m.column = 0;
        } else {
            ++m.column;
        }
    }
    return m;
}

bool isNullWord(std::string_view s) {
    return s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL";
}

class Parser {
public:
    explicit Parser(std::string_view text) : text_(text) {
        ok_ = yaml_parser_initialize(&parser_) != 0;
        if (ok_) {
            yaml_parser_set_input_string(&parser_, reinterpret_cast<const unsigned char*>(text.data()), text.size());
        }
    }
    ~Parser() {
        if (ok_) yaml_parser_delete(&parser_);
    }
    Parser(const Parser&) = delete;
    Parser& operator=(const Parser&) = delete;

    YamlDocument run();

private:
    // A map or list still being read; a map keeps its key until the value is complete.
    struct Open {
        YamlNode node;
        std::optional<YamlNode> key;
    };

    YamlSyntaxError parserError() const;
    void attach(YamlNode node, YamlDocument& doc, bool& haveRoot);

    std::string_view text_;
    yaml_parser_t parser_{};
    bool ok_ = false;
    std::vector<Open> open_;
};

class Event {
public:
    Event() = default;
    ~Event() {
        if (held_) yaml_event_delete(&event_);
    }
    Event(const Event&) = delete;
    Event& operator=(const Event&) = delete;
    bool next(yaml_parser_t& parser) {
        if (held_) yaml_event_delete(&event_);
        held_ = yaml_parser_parse(&parser, &event_) != 0;
        return held_;
    }
    const yaml_event_t& get() const noexcept { return event_; }

private:
    yaml_event_t event_{};
    bool held_ = false;
};

YamlSyntaxError Parser::parserError() const {
    if (parser_.error == YAML_MEMORY_ERROR) return YamlSyntaxError{Mark{}, "out of memory"};
    YamlSyntaxError e;
    e.message = parser_.problem ? parser_.problem : "unreadable YAML";
    if (parser_.error == YAML_READER_ERROR) {
        e.mark = markAtOffset(text_, parser_.problem_offset);
        return e;
    }
    e.mark = markOf(parser_.problem_mark);
    if (parser_.context) {
        e.message += " (";
        e.message += parser_.context;
        e.message += " at line " + std::to_string(parser_.context_mark.line + 1) + ", column " +
                     std::to_string(parser_.context_mark.column + 1) + ")";
    }
    return e;
}

void Parser::attach(YamlNode node, YamlDocument& doc, bool& haveRoot) {
    if (open_.empty()) {
        doc.root = std::move(node);
        haveRoot = true;
        return;
    }
    Open& parent = open_.back();
    if (parent.node.isSequence()) {
        parent.node.addItem(std::move(node));
    } else if (!parent.key) {
        parent.key = std::move(node);
    } else {
        parent.node.addEntry(std::move(*parent.key), std::move(node));
        parent.key.reset();
    }
}

YamlDocument Parser::run() {
    YamlDocument doc;
    if (!ok_) {
        doc.error = YamlSyntaxError{Mark{}, "out of memory"};
        return doc;
    }
    bool haveRoot = false;
    Event event;
    for (;;) {
        if (!event.next(parser_)) {
            doc.error = parserError();
            return doc;
        }
        const yaml_event_t& e = event.get();
        const Mark at = markOf(e.start_mark);
        switch (e.type) {
            case YAML_STREAM_END_EVENT:
                return doc;
            case YAML_DOCUMENT_START_EVENT:
                if (haveRoot) {
                    doc.error = YamlSyntaxError{at, "only one YAML document is allowed, found a second one"};
                    return doc;
                }
                break;
            case YAML_ALIAS_EVENT:
                doc.error = YamlSyntaxError{at, "aliases ('*name') are not supported; write the value out"};
                return doc;
            case YAML_SCALAR_EVENT: {
                const auto& s = e.data.scalar;
                std::string_view value(reinterpret_cast<const char*>(s.value), s.length);
                if (s.style == YAML_PLAIN_SCALAR_STYLE && s.tag == nullptr && isNullWord(value)) {
                    attach(YamlNode(YamlNode::Kind::Null, at), doc, haveRoot);
                } else {
                    YamlNode node(YamlNode::Kind::Scalar, at);
                    node.setScalar(std::string(value));
                    attach(std::move(node), doc, haveRoot);
                }
                break;
            }
            case YAML_SEQUENCE_START_EVENT:
            case YAML_MAPPING_START_EVENT:
                if (open_.size() >= limits::kMaxYamlNesting) {
                    doc.error = YamlSyntaxError{at, "maps and lists nested more than " +
                                                        std::to_string(limits::kMaxYamlNesting) + " levels deep"};
                    return doc;
                }
                open_.push_back(Open{YamlNode(e.type == YAML_MAPPING_START_EVENT ? YamlNode::Kind::Map
                                                                                  : YamlNode::Kind::Sequence,
                                              at),
                                     std::nullopt});
                break;
            case YAML_SEQUENCE_END_EVENT:
            case YAML_MAPPING_END_EVENT: {
                if (open_.empty()) break;  // libyaml pairs them; kept defensive
                YamlNode done = std::move(open_.back().node);
                open_.pop_back();
                attach(std::move(done), doc, haveRoot);
                break;
            }
            default:
                break;
        }
    }
}

}  // namespace

YamlDocument parseYamlDocument(std::string_view text) { return Parser(text).run(); }

}  // namespace sipreg::config::detail
