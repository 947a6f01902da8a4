#pragma once
// Writing the credentials (Authorization / Proxy-Authorization value, RFC 7616 section 3.4,
// RFC 3261 section 25.1): username, realm, nonce, uri, response, cnonce and opaque quoted;
// algorithm, qop and nc as tokens.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "auth/digest_challenge.h"
#include "util/result.h"

namespace sipreg::auth {

struct DigestAuthorizationFields {
    std::string_view username;       // already H(user:realm) when userhash is true
    bool userhash = false;           // adds userhash=true
    std::string_view realm;
    std::string_view nonce;
    std::string_view uri;
    std::string_view response;
    std::string_view algorithmText;  // empty: no algorithm= parameter
    std::string_view cnonce;         // empty: no cnonce= parameter
    std::optional<std::string_view> opaque;
    Qop qop = Qop::None;             // None: neither qop= nor nc=
    uint32_t nc = 0;                 // written as 8 lowercase hex digits
};

// Fails (naming the field, not its value) when a value cannot be carried in a quoted-string
// (control characters such as CR or LF) or the algorithm is not a plain token.
Result<std::string> formatDigestAuthorization(const DigestAuthorizationFields& fields);

// "%08x" of the nonce count.
std::string formatNonceCount(uint32_t nc);

}  // namespace sipreg::auth
