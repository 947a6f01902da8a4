#pragma once
// One Digest challenge (WWW-Authenticate / Proxy-Authenticate value, RFC 7616 section 3.3)
// taken from the generic auth-param parse in sip/typed_headers.h.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "auth/digest_algorithm.h"
#include "sip/typed_headers.h"
#include "util/result.h"

namespace sipreg::auth {

enum class Qop : uint8_t {
    None,     // no qop in the challenge: RFC 2069 compatible response, no cnonce/nc
    Auth,
    AuthInt,  // the entity body is hashed into A2
};

std::string_view qopToken(Qop qop) noexcept;  // "", "auth", "auth-int"

struct DigestChallenge {
    std::string realm;
    std::string nonce;
    std::optional<std::string> opaque;
    DigestAlgorithm algorithm = DigestAlgorithm::Md5;
    // The algorithm as the challenge spelled it, echoed verbatim; empty when the challenge
    // named none (MD5 assumed, and then no algorithm= goes into the answer).
    std::string algorithmText;
    bool qopOffered = false;  // a qop parameter was present
    bool offersAuth = false;
    bool offersAuthInt = false;
    bool stale = false;
    bool userhash = false;
    std::vector<std::string> domain;  // space-separated URIs, as given
    std::optional<std::string> charset;
};

// nullopt when the scheme is not Digest (compared case-insensitively), so callers skip it.
// An error when it is Digest but cannot be answered: no realm or nonce, an algorithm this
// library does not implement (the message names it), or a qop list without auth/auth-int.
Result<std::optional<DigestChallenge>> parseDigestChallenge(const sip::AuthValue& value);

}  // namespace sipreg::auth
