#include "sip/uri.h"

#include "sip/text.h"

namespace sipreg::sip {
namespace {

using text::isAlnum;
using text::isAlpha;
using text::isDigit;
using text::isHex;

constexpr bool isMark(char c) noexcept {
    switch (c) {
        case '-': case '_': case '.': case '!': case '~': case '*': case '\'': case '(': case ')':
            return true;
        default:
            return false;
    }
}
constexpr bool isUnreserved(char c) noexcept { return isAlnum(c) || isMark(c); }

constexpr bool isUserChar(char c) noexcept {
    if (isUnreserved(c)) return true;
    switch (c) {
        case '&': case '=': case '+': case '$': case ',': case ';': case '?': case '/':
            return true;
        default:
            return false;
    }
}
constexpr bool isPasswordChar(char c) noexcept {
    if (isUnreserved(c)) return true;
    switch (c) {
        case '&': case '=': case '+': case '$': case ',':
            return true;
        default:
            return false;
    }
}
// paramchar plus the ';' and '=' that structure the parameter list.
constexpr bool isParamsChar(char c) noexcept {
    if (isUnreserved(c)) return true;
    switch (c) {
        case '[': case ']': case '/': case ':': case '&': case '+': case '$': case ';': case '=':
            return true;
        default:
            return false;
    }
}
// hnv-unreserved / unreserved plus the '&' and '=' that structure the header list.
constexpr bool isHeadersChar(char c) noexcept {
    if (isUnreserved(c)) return true;
    switch (c) {
        case '[': case ']': case '/': case '?': case ':': case '+': case '$': case '&': case '=':
            return true;
        default:
            return false;
    }
}
constexpr bool isHostnameChar(char c) noexcept {
    // '_' is not in the grammar but appears in real deployments; accepting it costs nothing.
    return isAlnum(c) || c == '-' || c == '.' || c == '_';
}

// Checks every character against `allowed`, with %HH escapes permitted. Returns the index of
// the first bad character or npos.
template <class Pred>
std::size_t findInvalid(std::string_view s, Pred allowed) noexcept {
    for (std::size_t i = 0; i < s.size(); ++i) {
        char c = s[i];
        if (c == '%') {
            if (i + 2 >= s.size()) return i;
            if (!isHex(s[i + 1]) || !isHex(s[i + 2])) return i;
            i += 2;
            continue;
        }
        if (!allowed(c)) return i;
    }
    return std::string_view::npos;
}

// Loose IPv6 reference check: hex groups separated by ':', optionally ending in dotted IPv4.
// Deliberately tolerates ":::" before an embedded IPv4 address (RFC 5118 4.10).
bool looksLikeIpv6(std::string_view s) noexcept {
    if (s.size() < 2 || s.size() > 64) return false;
    std::size_t colons = 0;
    std::size_t groupLen = 0;
    bool sawDot = false;
    for (char c : s) {
        if (c == ':') {
            if (sawDot) return false;
            ++colons;
            groupLen = 0;
        } else if (c == '.') {
            sawDot = true;
        } else if (isHex(c)) {
            if (!sawDot && ++groupLen > 4) return false;
            if (sawDot && !isDigit(c)) return false;
        } else {
            return false;
        }
    }
    return colons >= 2 && colons <= 8;
}

Error uriError(std::string what, std::size_t offset) {
    return makeError("URI: " + std::move(what), offset);
}

}  // namespace

bool Uri::isSip() const noexcept {
    return text::iequals(scheme, "sip") || text::iequals(scheme, "sips");
}

bool Uri::isSips() const noexcept { return text::iequals(scheme, "sips"); }

std::optional<std::string_view> Uri::param(std::string_view name) const noexcept {
    std::string_view rest = params;
    while (!rest.empty()) {
        std::size_t semi = rest.find(';');
        std::string_view item = rest.substr(0, semi);
        rest = semi == std::string_view::npos ? std::string_view{} : rest.substr(semi + 1);
        std::size_t eq = item.find('=');
        std::string_view n = item.substr(0, eq);
        if (text::iequals(n, name)) {
            return eq == std::string_view::npos ? std::string_view{} : item.substr(eq + 1);
        }
    }
    return std::nullopt;
}

std::string Uri::hostPort() const {
    std::string out;
    out.reserve(host.size() + 8);
    if (hostIsIpv6) {
        out += '[';
        out += host;
        out += ']';
    } else {
        out += host;
    }
    if (port) {
        out += ':';
        out += std::to_string(*port);
    }
    return out;
}

Result<Uri> parseUri(std::string_view textIn) {
    Uri u;
    std::size_t colon = textIn.find(':');
    if (colon == std::string_view::npos || colon == 0) return uriError("missing scheme", 0);
    std::string_view scheme = textIn.substr(0, colon);
    if (!isAlpha(scheme[0])) return uriError("invalid scheme", 0);
    for (char c : scheme) {
        if (!isAlnum(c) && c != '+' && c != '-' && c != '.') return uriError("invalid scheme", 0);
    }
    u.scheme = scheme;
    const std::size_t base = colon + 1;
    std::string_view rest = textIn.substr(base);

    if (!u.isSip()) {
        if (rest.empty()) return uriError("empty URI after scheme", base);
        for (std::size_t i = 0; i < rest.size(); ++i) {
            auto c = static_cast<unsigned char>(rest[i]);
            if (c <= 0x20 || c == 0x7F || c == '<' || c == '>' || c == '"') {
                return uriError("invalid character in URI", base + i);
            }
        }
        u.opaque = rest;
        return u;
    }

    std::size_t pos = 0;
    std::size_t at = rest.find('@');
    if (at != std::string_view::npos) {
        std::string_view userinfo = rest.substr(0, at);
        std::size_t pc = userinfo.find(':');
        u.user = userinfo.substr(0, pc);
        if (u.user.empty()) return uriError("empty user part", base);
        if (std::size_t bad = findInvalid(u.user, isUserChar); bad != std::string_view::npos) {
            return uriError("invalid character in user part", base + bad);
        }
        if (pc != std::string_view::npos) {
            u.password = userinfo.substr(pc + 1);
            if (std::size_t bad = findInvalid(u.password, isPasswordChar);
                bad != std::string_view::npos) {
                return uriError("invalid character in password", base + pc + 1 + bad);
            }
        }
        pos = at + 1;
    }

    if (pos < rest.size() && rest[pos] == '[') {
        std::size_t close = rest.find(']', pos);
        if (close == std::string_view::npos) return uriError("unterminated IPv6 reference", base + pos);
        u.host = rest.substr(pos + 1, close - pos - 1);
        if (!looksLikeIpv6(u.host)) return uriError("invalid IPv6 reference", base + pos);
        u.hostIsIpv6 = true;
        pos = close + 1;
    } else {
        std::size_t start = pos;
        while (pos < rest.size() && isHostnameChar(rest[pos])) ++pos;
        u.host = rest.substr(start, pos - start);
        if (u.host.empty()) return uriError("missing host", base + start);
    }

    if (pos < rest.size() && rest[pos] == ':') {
        std::size_t start = ++pos;
        while (pos < rest.size() && isDigit(rest[pos])) ++pos;
        auto port = text::parseUint32(rest.substr(start, pos - start));
        if (!port || pos - start > 5 || *port > 65535) return uriError("invalid port", base + start);
        u.port = static_cast<uint16_t>(*port);
    }

    if (pos < rest.size() && rest[pos] == ';') {
        std::size_t start = ++pos;
        std::size_t q = rest.find('?', pos);
        std::size_t end = q == std::string_view::npos ? rest.size() : q;
        u.params = rest.substr(start, end - start);
        if (std::size_t bad = findInvalid(u.params, isParamsChar); bad != std::string_view::npos) {
            return uriError("invalid character in URI parameters", base + start + bad);
        }
        pos = end;
    }

    if (pos < rest.size() && rest[pos] == '?') {
        std::size_t start = ++pos;
        u.headers = rest.substr(start);
        if (std::size_t bad = findInvalid(u.headers, isHeadersChar); bad != std::string_view::npos) {
            return uriError("invalid character in URI headers", base + start + bad);
        }
        pos = rest.size();
    }

    if (pos != rest.size()) return uriError("unexpected character after host", base + pos);
    return u;
}

Result<std::string> percentDecode(std::string_view in) {
    std::string out;
    out.reserve(in.size());
    for (std::size_t i = 0; i < in.size(); ++i) {
        char c = in[i];
        if (c != '%') {
            out += c;
            continue;
        }
        if (i + 2 >= in.size()) {
            return makeError("truncated %-escape", i);
        }
        int hi = text::hexValue(in[i + 1]);
        int lo = text::hexValue(in[i + 2]);
        if (hi < 0 || lo < 0) return makeError("invalid %-escape", i);
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
    }
    return out;
}

}  // namespace sipreg::sip
