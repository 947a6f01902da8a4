#pragma once
// Character classes and small scanners shared by the SIP parsers (RFC 3261 25.1).
// Internal to the library.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace sipreg::sip::text {

constexpr char toLower(char c) noexcept {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

constexpr bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (toLower(a[i]) != toLower(b[i])) return false;
    }
    return true;
}

constexpr bool isDigit(char c) noexcept { return c >= '0' && c <= '9'; }
constexpr bool isAlpha(char c) noexcept { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
constexpr bool isAlnum(char c) noexcept { return isDigit(c) || isAlpha(c); }
constexpr bool isHex(char c) noexcept {
    return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
constexpr int hexValue(char c) noexcept {
    if (isDigit(c)) return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~")
constexpr bool isTokenChar(char c) noexcept {
    if (isAlnum(c)) return true;
    switch (c) {
        case '-': case '.': case '!': case '%': case '*': case '_':
        case '+': case '`': case '\'': case '~':
            return true;
        default:
            return false;
    }
}

constexpr bool isToken(std::string_view s) noexcept {
    if (s.empty()) return false;
    for (char c : s) {
        if (!isTokenChar(c)) return false;
    }
    return true;
}

// Whitespace inside a header value: SP, HTAB and the CR/LF of folded lines.
constexpr bool isLws(char c) noexcept { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
constexpr bool isWsp(char c) noexcept { return c == ' ' || c == '\t'; }

constexpr std::string_view trimLws(std::string_view s) noexcept {
    std::size_t b = 0;
    std::size_t e = s.size();
    while (b < e && isLws(s[b])) ++b;
    while (e > b && isLws(s[e - 1])) --e;
    return s.substr(b, e - b);
}

constexpr std::size_t skipLws(std::string_view s, std::size_t pos) noexcept {
    while (pos < s.size() && isLws(s[pos])) ++pos;
    return pos;
}

// Decimal digits only, value at most 2^32-1; anything else (empty, sign, overflow) is nullopt.
constexpr std::optional<uint32_t> parseUint32(std::string_view s) noexcept {
    if (s.empty()) return std::nullopt;
    uint64_t v = 0;
    for (char c : s) {
        if (!isDigit(c)) return std::nullopt;
        v = v * 10 + static_cast<uint64_t>(c - '0');
        if (v > 0xFFFFFFFFull) return std::nullopt;
    }
    return static_cast<uint32_t>(v);
}

// Index just past a quoted-string starting at s[pos] == '"', or npos when it never closes.
constexpr std::size_t skipQuoted(std::string_view s, std::size_t pos) noexcept {
    ++pos;
    while (pos < s.size()) {
        char c = s[pos];
        if (c == '\\') {
            pos += 2;
            continue;
        }
        if (c == '"') return pos + 1;
        ++pos;
    }
    return std::string_view::npos;
}

}  // namespace sipreg::sip::text
