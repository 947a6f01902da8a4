#pragma once
// What a line authenticates with: a password, or precomputed HA1 values so that the
// plaintext need not be stored. An HA1 is H(username ":" realm ":" password) for the base
// hash (RFC 7616 section 3.4.2), so it is bound to one realm: pin the realm when using it.
// For -sess algorithms the same HA1 is used and the session HA1 is derived from it.
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "auth/digest_algorithm.h"
#include "util/result.h"

namespace sipreg::auth {

struct DigestCredentials {
    std::string username;
    std::optional<std::string> password;
    // Keyed by base algorithm (Md5, Sha256, Sha512_256); lowercase hex. Use setHa1() to fill
    // it from configuration text.
    std::map<DigestAlgorithm, std::string> passwordHa1;

    // Stores an HA1 given as ("MD5" | "SHA-256" | "SHA-512-256" [-sess], hex). Checks the
    // token and that the hex has the hash's length; errors name the algorithm, never the value.
    Result<void> setHa1(std::string_view algorithm, std::string_view hex);

    // The usable HA1 (right length, hex) for `algorithm`'s base hash, lowercased.
    std::optional<std::string> ha1For(DigestAlgorithm algorithm) const;
    // A password, or a usable HA1 for that algorithm.
    bool canAnswer(DigestAlgorithm algorithm) const;
    bool hasAnySecret() const;
};

}  // namespace sipreg::auth
