#include "sip/typed_headers.h"

#include <string>

#include "sip/parse_detail.h"
#include "sip/text.h"

namespace sipreg::sip {
namespace {

// Offset of a position inside a header value, counted from the start of the message.
std::size_t messageOffset(const Message& m, std::string_view value, std::size_t inValue) {
    std::string_view raw = m.raw();
    if (value.data() == nullptr || raw.data() == nullptr) return Error::kNoOffset;
    if (value.data() < raw.data() || value.data() > raw.data() + raw.size()) return Error::kNoOffset;
    std::size_t base = static_cast<std::size_t>(value.data() - raw.data());
    return inValue == Error::kNoOffset ? base : base + inValue;
}

Error headerError(const Message& m, std::string_view headerName, std::string_view value, const Error& e) {
    return makeError(std::string(headerName) + ": " + e.message, messageOffset(m, value, e.offset));
}

Error headerError(const Message& m, std::string_view headerName, std::string_view value, std::string what,
                  std::size_t inValue = 0) {
    return headerError(m, headerName, value, makeError(std::move(what), inValue));
}

Result<std::string_view> requiredSingle(const Message& m, HeaderId id) {
    auto v = m.header(id);
    if (!v) return makeError("missing " + std::string(canonicalHeaderName(id)) + " header");
    return *v;
}

Result<std::optional<uint32_t>> optionalNumber(const Message& m, HeaderId id) {
    auto v = m.header(id);
    if (!v) return std::optional<uint32_t>{};
    auto n = text::parseUint32(*v);
    if (!n) {
        return headerError(m, canonicalHeaderName(id), *v, "expected a number from 0 to 4294967295");
    }
    return std::optional<uint32_t>{*n};
}

bool isHostChar(char c) noexcept { return text::isAlnum(c) || c == '-' || c == '.' || c == '_'; }

std::size_t scanToken(std::string_view s, std::size_t pos) noexcept {
    while (pos < s.size() && text::isTokenChar(s[pos])) ++pos;
    return pos;
}

// via-parm = sent-protocol LWS sent-by *( SEMI via-params ), LWS allowed around '/'.
Result<Via> parseVia(std::string_view s) {
    Via v;
    std::size_t pos = 0;
    std::size_t end = scanToken(s, pos);
    if (end == pos) return makeError("expected protocol name", pos);
    v.protocolName = s.substr(pos, end - pos);
    std::string_view* parts[2] = {&v.protocolVersion, &v.transport};
    for (std::string_view* part : parts) {
        pos = text::skipLws(s, end);
        if (pos >= s.size() || s[pos] != '/') return makeError("expected '/' in sent-protocol", pos);
        pos = text::skipLws(s, pos + 1);
        end = scanToken(s, pos);
        if (end == pos) return makeError("expected token in sent-protocol", pos);
        *part = s.substr(pos, end - pos);
        if (part == &v.protocolVersion) v.protocol = s.substr(0, end);
    }
    pos = text::skipLws(s, end);
    if (pos == end) return makeError("expected whitespace before sent-by", pos);
    if (pos < s.size() && s[pos] == '[') {
        std::size_t close = s.find(']', pos);
        if (close == std::string_view::npos) return makeError("unterminated IPv6 reference", pos);
        v.host = s.substr(pos + 1, close - pos - 1);
        for (char c : v.host) {
            if (!text::isHex(c) && c != ':' && c != '.') return makeError("invalid IPv6 reference", pos);
        }
        if (v.host.find(':') == std::string_view::npos) return makeError("invalid IPv6 reference", pos);
        v.hostIsIpv6 = true;
        pos = close + 1;
    } else {
        std::size_t start = pos;
        while (pos < s.size() && isHostChar(s[pos])) ++pos;
        if (pos == start) return makeError("expected sent-by host", pos);
        v.host = s.substr(start, pos - start);
    }
    std::size_t afterHost = text::skipLws(s, pos);
    if (afterHost < s.size() && s[afterHost] == ':') {
        std::size_t start = text::skipLws(s, afterHost + 1);
        pos = start;
        while (pos < s.size() && text::isDigit(s[pos])) ++pos;
        auto port = text::parseUint32(s.substr(start, pos - start));
        if (!port || *port > 65535) return makeError("invalid sent-by port", start);
        v.port = static_cast<uint16_t>(*port);
    }
    auto paramsEnd = detail::parseSemicolonParams(s, pos, v.params);
    if (!paramsEnd) return paramsEnd.error();
    if (*paramsEnd != s.size()) return makeError("unexpected text after Via parameters", *paramsEnd);
    if (const GenericParam* rp = v.params.find("rport"); rp != nullptr && rp->hasValue) {
        auto port = text::parseUint32(rp->value);
        if (!port || *port > 65535) return makeError("invalid rport value", Error::kNoOffset);
    }
    return v;
}

Result<NameAddr> singleAddress(const Message& m, HeaderId id) {
    auto v = requiredSingle(m, id);
    if (!v) return v.error();
    auto na = parseNameAddr(*v);
    if (!na) return headerError(m, canonicalHeaderName(id), *v, na.error());
    return na;
}

Result<void> checkContactParams(const ContactValue& c) {
    if (const GenericParam* p = c.address.params.find("expires"); p != nullptr) {
        if (!text::parseUint32(p->value)) return makeError("invalid expires parameter");
    }
    if (const GenericParam* p = c.address.params.find("reg-id"); p != nullptr) {
        if (!text::parseUint32(p->value)) return makeError("invalid reg-id parameter");
    }
    return {};
}

Result<std::vector<AuthValue>> challenges(const Message& m, HeaderId id) {
    std::vector<AuthValue> out;
    for (const auto& h : m.headers()) {
        if (h.id != id) continue;
        auto values = parseAuthValues(h.value);
        if (!values) return headerError(m, canonicalHeaderName(id), h.value, values.error());
        for (auto& v : *values) out.push_back(std::move(v));
    }
    return out;
}

std::vector<std::string_view> tokenList(const Message& m, HeaderId id) {
    std::vector<std::string_view> out;
    for (const auto& h : m.headers()) {
        if (h.id != id) continue;
        // An unterminated quote cannot occur in a token list; whatever was split before it stays.
        (void)detail::forEachCommaItem(h.value, [&](std::string_view item, std::size_t) -> Result<void> {
            if (!item.empty()) out.push_back(item);
            return {};
        });
    }
    return out;
}

}  // namespace

std::string_view Via::branch() const noexcept {
    const GenericParam* p = params.find("branch");
    return p == nullptr ? std::string_view{} : p->value;
}

std::optional<std::string_view> Via::received() const noexcept {
    const GenericParam* p = params.find("received");
    if (p == nullptr) return std::nullopt;
    return p->value;
}

bool Via::hasRport() const noexcept { return params.has("rport"); }

std::optional<uint16_t> Via::rport() const noexcept {
    const GenericParam* p = params.find("rport");
    if (p == nullptr || !p->hasValue) return std::nullopt;
    auto n = text::parseUint32(p->value);
    if (!n || *n > 65535) return std::nullopt;
    return static_cast<uint16_t>(*n);
}

std::optional<uint32_t> ContactValue::expires() const noexcept {
    const GenericParam* p = address.params.find("expires");
    if (p == nullptr) return std::nullopt;
    return text::parseUint32(p->value);
}

std::optional<std::string_view> ContactValue::q() const noexcept {
    const GenericParam* p = address.params.find("q");
    if (p == nullptr) return std::nullopt;
    return p->value;
}

std::optional<std::string> ContactValue::instance() const { return address.params.unquoted("+sip.instance"); }

std::optional<uint32_t> ContactValue::regId() const noexcept {
    const GenericParam* p = address.params.find("reg-id");
    if (p == nullptr) return std::nullopt;
    return text::parseUint32(p->value);
}

Result<std::vector<Via>> vias(const Message& m) {
    std::vector<Via> out;
    for (const auto& h : m.headers()) {
        if (h.id != HeaderId::Via) continue;
        auto r = detail::forEachCommaItem(h.value, [&](std::string_view item, std::size_t at) -> Result<void> {
            if (item.empty()) return headerError(m, "Via", h.value, "empty value", at);
            auto v = parseVia(item);
            if (!v) {
                Error e = v.error();
                e.offset = e.hasOffset() ? e.offset + at : at;
                return headerError(m, "Via", h.value, e);
            }
            out.push_back(std::move(*v));
            return {};
        });
        if (!r) {
            if (r.error().message.rfind("Via: ", 0) == 0) return r.error();
            return headerError(m, "Via", h.value, r.error());
        }
    }
    return out;
}

Result<NameAddr> fromHeader(const Message& m) { return singleAddress(m, HeaderId::From); }
Result<NameAddr> toHeader(const Message& m) { return singleAddress(m, HeaderId::To); }

Result<std::string_view> callId(const Message& m) {
    auto v = requiredSingle(m, HeaderId::CallId);
    if (!v) return v.error();
    if (v->empty()) return headerError(m, "Call-ID", *v, "empty value");
    for (std::size_t i = 0; i < v->size(); ++i) {
        auto c = static_cast<unsigned char>((*v)[i]);
        if (c <= 0x20 || c == 0x7F) return headerError(m, "Call-ID", *v, "whitespace or control character", i);
    }
    return *v;
}

Result<CSeq> cseq(const Message& m) {
    auto v = requiredSingle(m, HeaderId::CSeq);
    if (!v) return v.error();
    std::string_view s = *v;
    std::size_t pos = 0;
    while (pos < s.size() && text::isDigit(s[pos])) ++pos;
    auto n = text::parseUint32(s.substr(0, pos));
    if (!n) return headerError(m, "CSeq", s, "sequence number must be a number from 0 to 4294967295");
    std::size_t methodStart = text::skipLws(s, pos);
    if (methodStart == pos) return headerError(m, "CSeq", s, "expected whitespace before method", pos);
    std::size_t methodEnd = scanToken(s, methodStart);
    if (methodEnd == methodStart || methodEnd != s.size()) {
        return headerError(m, "CSeq", s, "expected a method token", methodStart);
    }
    return CSeq{*n, s.substr(methodStart)};
}

Result<std::vector<ContactValue>> contacts(const Message& m) {
    std::vector<ContactValue> out;
    for (const auto& h : m.headers()) {
        if (h.id != HeaderId::Contact) continue;
        auto r = detail::forEachCommaItem(h.value, [&](std::string_view item, std::size_t at) -> Result<void> {
            if (item.empty()) return headerError(m, "Contact", h.value, "empty value", at);
            ContactValue c;
            if (item == "*") {
                c.star = true;
                out.push_back(std::move(c));
                return {};
            }
            auto na = parseNameAddr(item);
            if (!na) {
                Error e = na.error();
                e.offset = e.hasOffset() ? e.offset + at : at;
                return headerError(m, "Contact", h.value, e);
            }
            c.address = std::move(*na);
            if (auto ok = checkContactParams(c); !ok) return headerError(m, "Contact", h.value, ok.error().message, at);
            out.push_back(std::move(c));
            return {};
        });
        if (!r) {
            if (r.error().message.rfind("Contact: ", 0) == 0) return r.error();
            return headerError(m, "Contact", h.value, r.error());
        }
    }
    return out;
}

Result<std::optional<uint32_t>> expires(const Message& m) { return optionalNumber(m, HeaderId::Expires); }
Result<std::optional<uint32_t>> minExpires(const Message& m) { return optionalNumber(m, HeaderId::MinExpires); }
Result<std::optional<uint32_t>> maxForwards(const Message& m) { return optionalNumber(m, HeaderId::MaxForwards); }
Result<std::optional<uint32_t>> contentLength(const Message& m) {
    return optionalNumber(m, HeaderId::ContentLength);
}

// Retry-After = delta-seconds [ comment ] *( SEMI retry-param )
Result<std::optional<RetryAfter>> retryAfter(const Message& m) {
    auto v = m.header(HeaderId::RetryAfter);
    if (!v) return std::optional<RetryAfter>{};
    std::string_view s = *v;
    RetryAfter ra;
    std::size_t pos = 0;
    while (pos < s.size() && text::isDigit(s[pos])) ++pos;
    auto n = text::parseUint32(s.substr(0, pos));
    if (!n) return headerError(m, "Retry-After", s, "expected a number from 0 to 4294967295");
    ra.seconds = *n;
    pos = text::skipLws(s, pos);
    if (pos < s.size() && s[pos] == '(') {
        std::size_t open = pos;
        int depth = 0;
        for (; pos < s.size(); ++pos) {
            if (s[pos] == '\\') {
                ++pos;
            } else if (s[pos] == '(') {
                ++depth;
            } else if (s[pos] == ')' && --depth == 0) {
                break;
            }
        }
        if (pos >= s.size()) return headerError(m, "Retry-After", s, "unterminated comment", open);
        ra.comment = s.substr(open + 1, pos - open - 1);
        ++pos;
    }
    ParamList params;
    auto end = detail::parseSemicolonParams(s, pos, params);
    if (!end) return headerError(m, "Retry-After", s, end.error());
    if (*end != s.size()) return headerError(m, "Retry-After", s, "unexpected text", *end);
    if (const GenericParam* d = params.find("duration"); d != nullptr) {
        auto dn = text::parseUint32(d->value);
        if (!dn) return headerError(m, "Retry-After", s, "invalid duration");
        ra.duration = *dn;
    }
    return std::optional<RetryAfter>{ra};
}

Result<std::vector<AuthValue>> wwwAuthenticate(const Message& m) {
    return challenges(m, HeaderId::WwwAuthenticate);
}

Result<std::vector<AuthValue>> proxyAuthenticate(const Message& m) {
    return challenges(m, HeaderId::ProxyAuthenticate);
}

// Authentication-Info = ainfo *(COMMA ainfo); ainfo = name EQUAL (token / quoted-string)
Result<std::optional<ParamList>> authenticationInfo(const Message& m) {
    auto v = m.header(HeaderId::AuthenticationInfo);
    if (!v) return std::optional<ParamList>{};
    ParamList list;
    auto r = detail::forEachCommaItem(*v, [&](std::string_view item, std::size_t at) -> Result<void> {
        if (item.empty()) return {};
        std::size_t nameEnd = scanToken(item, 0);
        std::size_t eq = text::skipLws(item, nameEnd);
        if (nameEnd == 0 || eq >= item.size() || item[eq] != '=') return makeError("expected name=value", at);
        std::string_view value = text::trimLws(item.substr(eq + 1));
        if (value.empty()) return makeError("parameter without value", at + eq);
        if (value.front() == '"' && text::skipQuoted(value, 0) != value.size()) {
            return makeError("malformed quoted value", at + eq);
        }
        list.items.push_back(GenericParam{item.substr(0, nameEnd), value, true});
        return {};
    });
    if (!r) return headerError(m, "Authentication-Info", *v, r.error());
    return std::optional<ParamList>{std::move(list)};
}

std::vector<std::string_view> supported(const Message& m) { return tokenList(m, HeaderId::Supported); }
std::vector<std::string_view> require(const Message& m) { return tokenList(m, HeaderId::Require); }
std::vector<std::string_view> allow(const Message& m) { return tokenList(m, HeaderId::Allow); }

}  // namespace sipreg::sip
