#include "sip/header_id.h"

#include <algorithm>
#include <array>

#include "sip/text.h"

namespace sipreg::sip {
namespace {

struct NameEntry {
    std::string_view name;
    HeaderId id;
};

// Canonical spellings; lookups compare case-insensitively.
constexpr std::array<NameEntry, 42> kNames{{
    {"Via", HeaderId::Via},
    {"From", HeaderId::From},
    {"To", HeaderId::To},
    {"Call-ID", HeaderId::CallId},
    {"CSeq", HeaderId::CSeq},
    {"Contact", HeaderId::Contact},
    {"Expires", HeaderId::Expires},
    {"Min-Expires", HeaderId::MinExpires},
    {"Retry-After", HeaderId::RetryAfter},
    {"WWW-Authenticate", HeaderId::WwwAuthenticate},
    {"Proxy-Authenticate", HeaderId::ProxyAuthenticate},
    {"Authentication-Info", HeaderId::AuthenticationInfo},
    {"Authorization", HeaderId::Authorization},
    {"Proxy-Authorization", HeaderId::ProxyAuthorization},
    {"Content-Length", HeaderId::ContentLength},
    {"Content-Type", HeaderId::ContentType},
    {"Content-Encoding", HeaderId::ContentEncoding},
    {"Max-Forwards", HeaderId::MaxForwards},
    {"Supported", HeaderId::Supported},
    {"Require", HeaderId::Require},
    {"Proxy-Require", HeaderId::ProxyRequire},
    {"Unsupported", HeaderId::Unsupported},
    {"Allow", HeaderId::Allow},
    {"User-Agent", HeaderId::UserAgent},
    {"Server", HeaderId::Server},
    {"Route", HeaderId::Route},
    {"Record-Route", HeaderId::RecordRoute},
    {"Date", HeaderId::Date},
    {"Subject", HeaderId::Subject},
    {"Event", HeaderId::Event},
    {"Allow-Events", HeaderId::AllowEvents},
    {"Refer-To", HeaderId::ReferTo},
    {"Accept", HeaderId::Accept},
    {"Warning", HeaderId::Warning},
    {"Path", HeaderId::Path},
    {"Referred-By", HeaderId::ReferredBy},
    {"Session-Expires", HeaderId::SessionExpires},
    {"Identity", HeaderId::Identity},
    {"Identity-Info", HeaderId::IdentityInfo},
    {"Accept-Contact", HeaderId::AcceptContact},
    {"Reject-Contact", HeaderId::RejectContact},
    {"Request-Disposition", HeaderId::RequestDisposition},
}};

// RFC 3261 7.3.3, RFC 3265 (o, u), RFC 3515 (r), RFC 3892 (b), RFC 4028 (x), RFC 4474 (y, n),
// RFC 3841 (a, j, d).
constexpr HeaderId compactForm(char c) noexcept {
    switch (text::toLower(c)) {
        case 'i': return HeaderId::CallId;
        case 'm': return HeaderId::Contact;
        case 'f': return HeaderId::From;
        case 't': return HeaderId::To;
        case 'v': return HeaderId::Via;
        case 'l': return HeaderId::ContentLength;
        case 'k': return HeaderId::Supported;
        case 's': return HeaderId::Subject;
        case 'c': return HeaderId::ContentType;
        case 'e': return HeaderId::ContentEncoding;
        case 'o': return HeaderId::Event;
        case 'u': return HeaderId::AllowEvents;
        case 'r': return HeaderId::ReferTo;
        case 'b': return HeaderId::ReferredBy;
        case 'x': return HeaderId::SessionExpires;
        case 'y': return HeaderId::Identity;
        case 'n': return HeaderId::IdentityInfo;
        case 'a': return HeaderId::AcceptContact;
        case 'j': return HeaderId::RejectContact;
        case 'd': return HeaderId::RequestDisposition;
        default: return HeaderId::Other;
    }
}

constexpr std::size_t kMaxNameLength = 24;

// kNames sorted by length, with the index of the first entry of each length.
struct ByLength {
    std::array<NameEntry, kNames.size()> entries{};
    std::array<std::size_t, kMaxNameLength + 2> firstOfLength{};
};

constexpr ByLength makeByLength() {
    ByLength t;
    t.entries = kNames;
    std::sort(t.entries.begin(), t.entries.end(),
              [](const NameEntry& a, const NameEntry& b) { return a.name.size() < b.name.size(); });
    std::size_t i = 0;
    for (std::size_t len = 0; len <= kMaxNameLength + 1; ++len) {
        while (i < t.entries.size() && t.entries[i].name.size() < len) ++i;
        t.firstOfLength[len] = i;
    }
    return t;
}

constexpr ByLength kByLength = makeByLength();
static_assert(kByLength.entries.back().name.size() <= kMaxNameLength);

}  // namespace

HeaderId headerIdFromName(std::string_view name) noexcept {
    if (name.size() == 1) return compactForm(name[0]);
    if (name.size() >= kByLength.firstOfLength.size() - 1) return HeaderId::Other;
    // Only the few names of the same length are compared; this runs once per header line.
    for (std::size_t i = kByLength.firstOfLength[name.size()]; i < kByLength.firstOfLength[name.size() + 1]; ++i) {
        if (text::iequals(kByLength.entries[i].name, name)) return kByLength.entries[i].id;
    }
    return HeaderId::Other;
}

std::string_view canonicalHeaderName(HeaderId id) noexcept {
    for (const auto& e : kNames) {
        if (e.id == id) return e.name;
    }
    return {};
}

}  // namespace sipreg::sip
