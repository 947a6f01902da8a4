#pragma once
// Typed views of the headers a registration client needs. Each accessor splits
// comma-separated values and values spread over several header lines, handles folded
// lines, quoted strings with escapes and parameters with or without values. Views point
// into the Message (see message.h).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sip/message.h"
#include "sip/uri.h"
#include "util/result.h"

namespace sipreg::sip {

struct GenericParam {
    std::string_view name;
    std::string_view value;  // raw (a quoted value keeps its quotes); empty if no '='
    bool hasValue = false;
};

// A parameter list ";a=b;c;d=\"x y\"" as parsed. Lookups are case-insensitive on names.
struct ParamList {
    std::vector<GenericParam> items;
    const GenericParam* find(std::string_view name) const noexcept;
    bool has(std::string_view name) const noexcept { return find(name) != nullptr; }
    // The value with surrounding quotes removed and quoted-pairs unescaped.
    std::optional<std::string> unquoted(std::string_view name) const;
};

struct Via {
    std::string_view protocol;    // "SIP/2.0" (as received, so LWS around '/' stays inside)
    std::string_view protocolName;     // "SIP"
    std::string_view protocolVersion;  // "2.0"
    std::string_view transport;   // "UDP", "TCP", "TLS", ... (as received)
    std::string_view host;        // without IPv6 brackets
    bool hostIsIpv6 = false;
    std::optional<uint16_t> port;
    ParamList params;
    std::string_view branch() const noexcept;           // empty when absent
    std::optional<std::string_view> received() const noexcept;
    bool hasRport() const noexcept;                     // "rport" present, with or without value
    std::optional<uint16_t> rport() const noexcept;     // the value when the server filled it in
};

struct NameAddr {
    std::string displayName;      // unquoted and unescaped; empty when absent
    Uri uri;
    ParamList params;             // header parameters (after the URI / after '>')
    std::string_view tag() const noexcept;  // empty when absent
};

struct ContactValue {
    bool star = false;            // "Contact: *"
    NameAddr address;             // unset when star
    std::optional<uint32_t> expires() const noexcept;   // the expires= parameter
    std::optional<std::string_view> q() const noexcept;
    std::optional<std::string> instance() const;         // +sip.instance, unquoted
    std::optional<uint32_t> regId() const noexcept;
};

struct CSeq {
    uint32_t number = 0;
    std::string_view method;
};

struct RetryAfter {
    uint32_t seconds = 0;
    std::optional<uint32_t> duration;  // ;duration=
    std::string_view comment;
};

// One challenge or credentials value: scheme plus auth-params (RFC 3261 25.1 / RFC 7235).
struct AuthValue {
    std::string_view scheme;       // "Digest" in any case as received
    ParamList params;              // values keep their quotes; use ParamList::unquoted
};

Result<std::vector<Via>> vias(const Message& m);
Result<NameAddr> fromHeader(const Message& m);
Result<NameAddr> toHeader(const Message& m);
Result<std::string_view> callId(const Message& m);
Result<CSeq> cseq(const Message& m);
Result<std::vector<ContactValue>> contacts(const Message& m);      // empty vector if none
Result<std::optional<uint32_t>> expires(const Message& m);
Result<std::optional<uint32_t>> minExpires(const Message& m);
Result<std::optional<RetryAfter>> retryAfter(const Message& m);
Result<std::optional<uint32_t>> maxForwards(const Message& m);
Result<std::optional<uint32_t>> contentLength(const Message& m);
// Every challenge in every WWW-Authenticate (or Proxy-Authenticate) header, in order.
Result<std::vector<AuthValue>> wwwAuthenticate(const Message& m);
Result<std::vector<AuthValue>> proxyAuthenticate(const Message& m);
Result<std::optional<ParamList>> authenticationInfo(const Message& m);
// Option tags / methods from every Supported, Require, Allow header line.
std::vector<std::string_view> supported(const Message& m);
std::vector<std::string_view> require(const Message& m);
std::vector<std::string_view> allow(const Message& m);

// Lower-level parsers, usable on any header value (e.g. a config's contact string).
Result<NameAddr> parseNameAddr(std::string_view value);
Result<std::vector<AuthValue>> parseAuthValues(std::string_view value);

}  // namespace sipreg::sip
