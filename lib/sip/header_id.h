#pragma once
// Header names the library understands by identity. Lookup is case-insensitive and maps
// compact forms (RFC 3261 7.3.3 and later RFCs) to the same id.
#include <cstdint>
#include <string_view>

namespace sipreg::sip {

enum class HeaderId : uint8_t {
    Other,
    Via, From, To, CallId, CSeq, Contact, Expires, MinExpires, RetryAfter,
    WwwAuthenticate, ProxyAuthenticate, AuthenticationInfo, Authorization, ProxyAuthorization,
    ContentLength, ContentType, ContentEncoding, MaxForwards, Supported, Require, ProxyRequire,
    Unsupported, Allow, UserAgent, Server, Route, RecordRoute, Date, Subject, Event,
    AllowEvents, ReferTo, Accept, Warning, Path,
    // Headers known mainly for their compact forms (RFC 3515, 3841, 4028, 4474).
    ReferredBy, SessionExpires, Identity, IdentityInfo, AcceptContact, RejectContact,
    RequestDisposition,
};

HeaderId headerIdFromName(std::string_view name) noexcept;
// Canonical spelling used when serializing ("Call-ID", "WWW-Authenticate", "CSeq").
std::string_view canonicalHeaderName(HeaderId id) noexcept;

}  // namespace sipreg::sip
