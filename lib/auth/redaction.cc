#include "auth/redaction.h"

#include "auth/ascii.h"

namespace sipreg::auth {

namespace {

constexpr std::string_view kHidden = "\xE2\x80\xA6";  // U+2026 HORIZONTAL ELLIPSIS

bool isSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

bool isSecretParam(std::string_view name) {
    return ascii::iequals(name, "response") || ascii::iequals(name, "cnonce") ||
           ascii::iequals(name, "nonce");
}

// Characters allowed in a parameter name; anything else means we no longer understand the text.
bool isNameChar(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_' || c == '.' || c == '*';
}

}  // namespace

std::string redactAuthorization(std::string_view value) {
    std::size_t pos = 0;
    while (pos < value.size() && isSpace(value[pos])) ++pos;
    const std::size_t schemeStart = pos;
    while (pos < value.size() && !isSpace(value[pos])) ++pos;
    const std::string_view scheme = value.substr(schemeStart, pos - schemeStart);

    std::string out(scheme);
    if (!ascii::iequals(scheme, "Digest")) {
        if (pos < value.size()) {
            out += ' ';
            out += kHidden;
        }
        return out;
    }

    bool first = true;
    while (true) {
        while (pos < value.size() && (isSpace(value[pos]) || value[pos] == ',')) ++pos;
        if (pos >= value.size()) break;

        const std::size_t nameStart = pos;
        while (pos < value.size() && isNameChar(value[pos])) ++pos;
        const std::string_view name = value.substr(nameStart, pos - nameStart);
        std::size_t p = pos;
        while (p < value.size() && isSpace(value[p])) ++p;
        out += first ? " " : ", ";
        first = false;
        if (name.empty() || p >= value.size() || value[p] != '=') {
            out += kHidden;  // not name=value: stop interpreting
            break;
        }
        ++p;
        while (p < value.size() && isSpace(value[p])) ++p;

        std::size_t end = p;
        bool quotedValue = false;
        bool closed = true;
        if (p < value.size() && value[p] == '"') {
            quotedValue = true;
            closed = false;
            end = p + 1;
            while (end < value.size()) {
                if (value[end] == '\\') {
                    end += 2;
                    continue;
                }
                if (value[end] == '"') {
                    closed = true;
                    ++end;
                    break;
                }
                ++end;
            }
            if (end > value.size()) end = value.size();
        } else {
            while (end < value.size() && value[end] != ',') ++end;
        }

        out += name;
        out += '=';
        if (!closed) {
            out += kHidden;
            break;
        }
        if (isSecretParam(name)) {
            if (quotedValue) out += '"';
            out += kHidden;
            if (quotedValue) out += '"';
        } else {
            out += ascii::trim(value.substr(p, end - p));
        }
        pos = end;
        while (pos < value.size() && isSpace(value[pos])) ++pos;
        if (pos < value.size() && value[pos] != ',') {
            out += ", ";
            out += kHidden;  // junk after a value: stop interpreting
            break;
        }
    }
    return out;
}

}  // namespace sipreg::auth
