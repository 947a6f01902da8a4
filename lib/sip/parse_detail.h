#pragma once
// Building blocks shared by the typed header parsers. Internal to the library.
#include <cstddef>
#include <string>
#include <string_view>

#include "sip/text.h"
#include "sip/typed_headers.h"
#include "util/result.h"

namespace sipreg::sip::detail {

// Parses ";name[=value]" items (LWS allowed around ';' and '=') starting at `pos`. Stops at
// the first character that does not start another ';' item and returns its index.
Result<std::size_t> parseSemicolonParams(std::string_view s, std::size_t pos, ParamList& out);

// Removes surrounding quotes and resolves quoted-pairs; text without quotes is returned as is.
std::string unquote(std::string_view raw);

// Calls fn(item, offsetOfItem) for every comma-separated item of a header value; commas inside
// quoted strings, <...> and (...) do not split. Items are LWS-trimmed; empty items are passed
// too, so the caller decides whether "a,,b" is an error.
template <class Fn>
Result<void> forEachCommaItem(std::string_view s, Fn&& fn) {
    std::size_t start = 0;
    std::size_t i = 0;
    int angle = 0;
    int paren = 0;
    auto emit = [&](std::size_t end) -> Result<void> {
        std::string_view raw = s.substr(start, end - start);
        std::size_t lead = 0;
        while (lead < raw.size() && text::isLws(raw[lead])) ++lead;
        return fn(text::trimLws(raw), start + lead);
    };
    while (i < s.size()) {
        char c = s[i];
        if (c == '"') {
            std::size_t end = text::skipQuoted(s, i);
            if (end == std::string_view::npos) return makeError("unterminated quoted string", i);
            i = end;
            continue;
        }
        if (c == '<') ++angle;
        else if (c == '>' && angle > 0) --angle;
        else if (c == '(') ++paren;
        else if (c == ')' && paren > 0) --paren;
        else if (c == ',' && angle == 0 && paren == 0) {
            if (auto r = emit(i); !r) return r;
            start = i + 1;
        }
        ++i;
    }
    return emit(s.size());
}

}  // namespace sipreg::sip::detail
