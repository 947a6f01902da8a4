#include "sip/parse_detail.h"
#include "sip/text.h"
#include "sip/typed_headers.h"

namespace sipreg::sip {
namespace {

// Display name given as tokens: LWS runs collapse to one space.
std::string collapseTokens(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    bool pendingSpace = false;
    for (char c : s) {
        if (text::isLws(c)) {
            pendingSpace = !out.empty();
            continue;
        }
        if (pendingSpace) out += ' ';
        pendingSpace = false;
        out += c;
    }
    return out;
}

Error addrError(std::string what, std::size_t offset) {
    return makeError("address: " + std::move(what), offset);
}

}  // namespace

std::string_view NameAddr::tag() const noexcept {
    const GenericParam* p = params.find("tag");
    return p == nullptr ? std::string_view{} : p->value;
}

Result<NameAddr> parseNameAddr(std::string_view s) {
    NameAddr na;
    std::size_t pos = text::skipLws(s, 0);
    if (pos == s.size()) return addrError("empty value", pos);

    bool angled = false;
    if (s[pos] == '"') {
        std::size_t end = text::skipQuoted(s, pos);
        if (end == std::string_view::npos) {
            return addrError("unterminated quoted display name", pos);
        }
        na.displayName = detail::unquote(s.substr(pos, end - pos));
        pos = text::skipLws(s, end);
        if (pos == s.size() || s[pos] != '<') return addrError("expected '<' after display name", pos);
        angled = true;
    } else {
        std::size_t p = pos;
        while (p < s.size() && (text::isTokenChar(s[p]) || text::isLws(s[p]))) ++p;
        if (p < s.size() && s[p] == '<') {
            na.displayName = collapseTokens(s.substr(pos, p - pos));
            pos = p;
            angled = true;
        }
    }

    std::string_view uriText;
    std::size_t uriOffset = 0;
    if (angled) {
        std::size_t close = s.find('>', pos);
        if (close == std::string_view::npos) return addrError("missing '>'", pos);
        // LWS just inside the brackets (RFC 4475 3.1.2.14) is tolerated: it cannot be mistaken
        // for anything else.
        std::string_view inner = s.substr(pos + 1, close - pos - 1);
        uriOffset = text::skipLws(inner, 0) + pos + 1;
        uriText = text::trimLws(inner);
        pos = close + 1;
    } else {
        // addr-spec: the URI ends at the first ';' and what follows are header parameters
        // (RFC 3261 20.10). A URI needing ',', '?' or ';' must be in angle brackets.
        std::size_t end = s.find(';', pos);
        if (end == std::string_view::npos) end = s.size();
        uriOffset = pos;
        uriText = text::trimLws(s.substr(pos, end - pos));
        for (std::size_t i = 0; i < uriText.size(); ++i) {
            char c = uriText[i];
            if (c == '?' || c == ',') {
                return addrError(std::string("URI containing '") + c + "' must be enclosed in <>",
                                 uriOffset + i);
            }
        }
        pos = end;
    }
    for (std::size_t i = 0; i < uriText.size(); ++i) {
        if (text::isLws(uriText[i])) return addrError("whitespace inside URI", uriOffset + i);
    }
    auto uri = parseUri(uriText);
    if (!uri) {
        Error e = uri.error();
        if (e.hasOffset()) e.offset += uriOffset;
        return e;
    }
    na.uri = *uri;

    auto end = detail::parseSemicolonParams(s, pos, na.params);
    if (!end) return addrError(end.error().message, end.error().offset);
    if (*end != s.size()) return addrError("unexpected text after address", *end);
    return na;
}

}  // namespace sipreg::sip
