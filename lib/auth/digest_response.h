#pragma once
// The Digest response computation (RFC 7616 section 3.4.1-3.4.3, RFC 2617 section 3.2.2):
//   HA1      = H(username ":" realm ":" password)
//   -sess:     HA1 = H(HA1 ":" nonce ":" cnonce)
//   HA2      = H(method ":" uri), auth-int: H(method ":" uri ":" H(body))
//   response = H(HA1 ":" nonce ":" nc ":" cnonce ":" qop ":" HA2), no qop: H(HA1 ":" nonce ":" HA2)
#include <string>
#include <string_view>

#include "auth/digest_algorithm.h"
#include "auth/digest_challenge.h"
#include "util/result.h"

namespace sipreg::auth {

// H(username ":" realm ":" password) for the algorithm's base hash, lowercase hex.
Result<std::string> computeHa1(DigestAlgorithm algorithm, std::string_view username,
                               std::string_view realm, std::string_view password);

// RFC 7616 section 3.4.4: the username sent when the challenge says userhash=true.
Result<std::string> computeUserhash(DigestAlgorithm algorithm, std::string_view username,
                                    std::string_view realm);

struct DigestResponseInput {
    DigestAlgorithm algorithm = DigestAlgorithm::Md5;
    std::string_view ha1;     // H(user:realm:pass), lowercase hex (the non-session value)
    std::string_view nonce;
    std::string_view method;
    std::string_view uri;     // the digest-uri exactly as it will be sent
    Qop qop = Qop::None;
    std::string_view cnonce;  // used with a qop and by -sess algorithms
    std::string_view nc;      // 8 hex digits, used with a qop
    std::string_view body;    // hashed for auth-int only
};

Result<std::string> computeResponse(const DigestResponseInput& input);

}  // namespace sipreg::auth
