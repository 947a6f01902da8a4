#include "config/sip_target.h"

#include "sip/uri.h"

namespace sipreg::config {

namespace {

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool startsWithNoCase(std::string_view s, std::string_view prefix) {
    if (s.size() < prefix.size()) return false;
    for (std::size_t i = 0; i < prefix.size(); ++i) {
        if (lower(s[i]) != prefix[i]) return false;
    }
    return true;
}

bool isSchemeChar(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '+' || c == '-' ||
           c == '.';
}

// "tel:+1555", "http://x": a scheme we do not take, as opposed to "host:5060".
std::optional<std::string_view> foreignScheme(std::string_view text) {
    const auto colon = text.find(':');
    if (colon == std::string_view::npos || colon == 0) return std::nullopt;
    const char first = text[0];
    if (!((first >= 'a' && first <= 'z') || (first >= 'A' && first <= 'Z'))) return std::nullopt;
    for (std::size_t i = 0; i < colon; ++i) {
        if (!isSchemeChar(text[i])) return std::nullopt;
    }
    if (colon + 1 < text.size() && text[colon + 1] >= '0' && text[colon + 1] <= '9') return std::nullopt;
    return text.substr(0, colon);
}

// "2001:db8::1" or "fe80::1:5060": hex digits, dots and at least two colons.
bool looksLikeBareIpv6(std::string_view text) {
    std::size_t colons = 0;
    for (char c : text) {
        const bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
        if (c == ':') ++colons;
        else if (!hex && c != '.') return false;
    }
    return colons >= 2;
}

Result<sip::Uri> parseSipUri(std::string_view text) {
    auto uri = sip::parseUri(text);
    if (!uri) return makeError("is not a valid SIP URI (" + uri.error().message + ")");
    if (!uri->isSip()) return makeError("must be a sip: or sips: URI (got scheme '" + std::string(uri->scheme) + "')");
    if (uri->host.empty()) return makeError("must name a host");
    if (!uri->password.empty()) return makeError("must not contain a password; put it under auth");
    if (!uri->headers.empty()) return makeError("must not have URI headers ('?...')");
    if (uri->port && *uri->port == 0) return makeError("port must be between 1 and 65535");
    return uri;
}

std::optional<Transport> transportFromName(std::string_view name) {
    std::string l(name);
    for (char& c : l) c = lower(c);
    if (l == "udp") return Transport::Udp;
    if (l == "tcp") return Transport::Tcp;
    if (l == "tls") return Transport::Tls;
    return std::nullopt;
}

}  // namespace

Result<ParsedTarget> parseSipTarget(std::string_view text, bool userPartAllowed) {
    std::string normalised;
    if (startsWithNoCase(text, "sip:") || startsWithNoCase(text, "sips:")) {
        normalised = std::string(text);
    } else if (looksLikeBareIpv6(text)) {
        return makeError("an IPv6 address needs brackets, e.g. [2001:db8::1]:5060");
    } else if (auto scheme = foreignScheme(text)) {
        return makeError("must be a sip: or sips: URI or host[:port] (got scheme '" + std::string(*scheme) + "')");
    } else {
        normalised = "sip:" + std::string(text);
    }

    auto uri = parseSipUri(normalised);
    if (!uri) return uri.error();
    if (!userPartAllowed && !uri->user.empty()) {
        return makeError("must not have a user part (the user belongs in aor)");
    }

    ParsedTarget out;
    if (auto t = uri->param("transport")) {
        auto transport = transportFromName(*t);
        if (!transport) {
            return makeError("transport '" + std::string(*t) + "' is not supported (expected udp, tcp or tls)");
        }
        out.transportParam = transport;
    }
    out.target.host = std::string(uri->host);
    out.target.hostIsIpv6 = uri->hostIsIpv6;
    out.target.port = uri->port;
    out.target.secure = uri->isSips();
    out.target.looseRouting = uri->param("lr").has_value();
    out.target.uri = std::move(normalised);
    return out;
}

Result<ParsedAor> parseAor(std::string_view text) {
    auto uri = parseSipUri(text);
    if (!uri) return uri.error();
    ParsedAor out;
    out.user = std::string(uri->user);
    auto unescaped = sip::percentDecode(uri->user);
    if (!unescaped) return makeError("has an invalid user part (" + unescaped.error().message + ")");
    out.userUnescaped = std::move(unescaped.value());
    out.host = std::string(uri->host);
    out.hostIsIpv6 = uri->hostIsIpv6;
    out.secure = uri->isSips();
    return out;
}

}  // namespace sipreg::config
