#include "sip/parse_detail.h"
#include "sip/text.h"
#include "sip/typed_headers.h"

namespace sipreg::sip {

const GenericParam* ParamList::find(std::string_view name) const noexcept {
    for (const auto& p : items) {
        if (text::iequals(p.name, name)) return &p;
    }
    return nullptr;
}

std::optional<std::string> ParamList::unquoted(std::string_view name) const {
    const GenericParam* p = find(name);
    if (p == nullptr) return std::nullopt;
    return detail::unquote(p->value);
}

namespace detail {
namespace {

// gen-value = token / host / quoted-string; host covers IPv4, [IPv6] and, in Via received=,
// a bare IPv6 address, so ':' '[' ']' are allowed. '/' appears in some vendors' values.
constexpr bool isValueChar(char c) noexcept {
    if (text::isTokenChar(c)) return true;
    switch (c) {
        case ':': case '[': case ']': case '/': case '@': case '?': case '&': case '=': case '$':
        case '(': case ')':
            return true;
        default:
            return static_cast<unsigned char>(c) >= 0x80;
    }
}

}  // namespace

std::string unquote(std::string_view raw) {
    if (raw.size() < 2 || raw.front() != '"' || raw.back() != '"') return std::string(raw);
    std::string_view inner = raw.substr(1, raw.size() - 2);
    std::string out;
    out.reserve(inner.size());
    for (std::size_t i = 0; i < inner.size(); ++i) {
        if (inner[i] == '\\' && i + 1 < inner.size()) {
            out += inner[++i];
        } else {
            out += inner[i];
        }
    }
    return out;
}

Result<std::size_t> parseSemicolonParams(std::string_view s, std::size_t pos, ParamList& out) {
    pos = text::skipLws(s, pos);
    while (pos < s.size() && s[pos] == ';') {
        pos = text::skipLws(s, pos + 1);
        std::size_t nameStart = pos;
        while (pos < s.size() && text::isTokenChar(s[pos])) ++pos;
        if (pos == nameStart) return makeError("empty parameter", nameStart);
        GenericParam p;
        p.name = s.substr(nameStart, pos - nameStart);
        pos = text::skipLws(s, pos);
        if (pos < s.size() && s[pos] == '=') {
            pos = text::skipLws(s, pos + 1);
            std::size_t valueStart = pos;
            if (pos < s.size() && s[pos] == '"') {
                std::size_t end = text::skipQuoted(s, pos);
                if (end == std::string_view::npos) {
                    return makeError("unterminated quoted parameter value", pos);
                }
                pos = end;
            } else {
                while (pos < s.size() && isValueChar(s[pos])) ++pos;
            }
            if (pos == valueStart) {
                return makeError("parameter '" + std::string(p.name) + "' has '=' but no value",
                                 valueStart);
            }
            p.value = s.substr(valueStart, pos - valueStart);
            p.hasValue = true;
            pos = text::skipLws(s, pos);
        }
        // One allocation covers the usual handful of parameters.
        if (out.items.capacity() == 0) out.items.reserve(4);
        out.items.push_back(p);
    }
    return pos;
}

}  // namespace detail
}  // namespace sipreg::sip
