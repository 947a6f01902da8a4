#pragma once
// SIP/SIPS URI (RFC 3261 19.1). Views point into the text the URI was parsed from: the
// caller keeps that text alive (a Message, a config string).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "util/result.h"

namespace sipreg::sip {

struct Uri {
    std::string_view scheme;    // "sip", "sips", or another scheme (then only `opaque` is set)
    std::string_view user;      // still percent-escaped; empty when absent
    std::string_view password;  // still percent-escaped; empty when absent
    std::string_view host;      // IPv6 references without the brackets
    bool hostIsIpv6 = false;
    std::optional<uint16_t> port;
    std::string_view params;    // raw ";a=b;lr" after host[:port], without the leading ';'
    std::string_view headers;   // raw "a=b&c=d" after '?', without the '?'
    std::string_view opaque;    // everything after "scheme:" for non-SIP schemes

    // Scheme names compare case-insensitively (RFC 3261 19.1.4).
    bool isSip() const noexcept;
    bool isSips() const noexcept;
    // URI parameter lookup, case-insensitive name. nullopt: absent; empty view: present without value.
    std::optional<std::string_view> param(std::string_view name) const noexcept;
    // "host" or "[v6]" plus ":port" when a port is present.
    std::string hostPort() const;
};

// Parses an absolute URI. sip/sips get the full RFC 3261 grammar; other schemes are
// accepted as scheme ":" opaque so a message with e.g. a tel: or isbn: URI still parses.
Result<Uri> parseUri(std::string_view text);

// Decodes %HH escapes once ("%2541" -> "%41"). Invalid escapes are an error.
Result<std::string> percentDecode(std::string_view text);

}  // namespace sipreg::sip
