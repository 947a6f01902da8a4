#include "sip/parse_detail.h"
#include "sip/text.h"
#include "sip/typed_headers.h"

namespace sipreg::sip {
namespace {

constexpr bool isToken68Char(char c) noexcept {
    return text::isAlnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/';
}

std::size_t skipLwsAndCommas(std::string_view s, std::size_t pos) {
    while (pos < s.size() && (text::isLws(s[pos]) || s[pos] == ',')) ++pos;
    return pos;
}

std::size_t scanToken(std::string_view s, std::size_t pos) {
    while (pos < s.size() && text::isTokenChar(s[pos])) ++pos;
    return pos;
}

// When the first item after the scheme is a token68 ("Basic dXNlcjpw=="), returns its end.
std::size_t token68End(std::string_view s, std::size_t pos) {
    std::size_t p = pos;
    while (p < s.size() && isToken68Char(s[p])) ++p;
    if (p == pos) return std::string_view::npos;
    while (p < s.size() && s[p] == '=') ++p;
    std::size_t after = text::skipLws(s, p);
    if (after == s.size() || s[after] == ',') return p;
    return std::string_view::npos;
}

}  // namespace

// challenge = auth-scheme LWS auth-param *(COMMA auth-param); several challenges may share a
// header line, so a token not followed by '=' after a comma starts the next challenge.
Result<std::vector<AuthValue>> parseAuthValues(std::string_view s) {
    std::vector<AuthValue> out;
    std::size_t pos = skipLwsAndCommas(s, 0);
    while (pos < s.size()) {
        std::size_t schemeEnd = scanToken(s, pos);
        if (schemeEnd == pos) return makeError("auth: expected a scheme token", pos);
        AuthValue v;
        v.scheme = s.substr(pos, schemeEnd - pos);
        pos = text::skipLws(s, schemeEnd);
        if (pos < s.size() && s[pos] != ',' && schemeEnd == pos) {
            return makeError("auth: expected whitespace after scheme", pos);
        }

        if (std::size_t t68 = token68End(s, pos); t68 != std::string_view::npos) {
            GenericParam p;
            p.name = s.substr(pos, t68 - pos);
            v.params.items.push_back(p);
            pos = t68;
        } else {
            while (pos < s.size()) {
                std::size_t nameStart = pos;
                std::size_t nameEnd = scanToken(s, pos);
                if (nameEnd == nameStart) {
                    return makeError("auth: unexpected character in parameters", pos);
                }
                std::size_t eq = text::skipLws(s, nameEnd);
                if (eq >= s.size() || s[eq] != '=') {
                    // Not "name=": the next challenge's scheme.
                    if (v.params.items.empty()) {
                        return makeError("auth: expected name=value after scheme", nameStart);
                    }
                    pos = nameStart;
                    break;
                }
                std::size_t valueStart = text::skipLws(s, eq + 1);
                std::size_t valueEnd = valueStart;
                if (valueStart < s.size() && s[valueStart] == '"') {
                    valueEnd = text::skipQuoted(s, valueStart);
                    if (valueEnd == std::string_view::npos) {
                        return makeError("auth: unterminated quoted value", valueStart);
                    }
                } else {
                    while (valueEnd < s.size() && s[valueEnd] != ',' && !text::isLws(s[valueEnd]) &&
                           s[valueEnd] != '"') {
                        ++valueEnd;
                    }
                }
                if (valueEnd == valueStart) {
                    return makeError("auth: parameter without value", valueStart);
                }
                if (v.params.items.capacity() == 0) v.params.items.reserve(8);
                GenericParam p;
                p.name = s.substr(nameStart, nameEnd - nameStart);
                p.value = s.substr(valueStart, valueEnd - valueStart);
                p.hasValue = true;
                v.params.items.push_back(p);
                pos = text::skipLws(s, valueEnd);
                if (pos == s.size()) break;
                if (s[pos] != ',') return makeError("auth: expected ',' between parameters", pos);
                pos = skipLwsAndCommas(s, pos);
            }
        }
        out.push_back(std::move(v));
        pos = skipLwsAndCommas(s, pos);
    }
    return out;
}

}  // namespace sipreg::sip
