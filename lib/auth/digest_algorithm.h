#pragma once
// The Digest algorithms of RFC 7616 section 3.3 / RFC 8760 section 2.
#include <cstdint>
#include <optional>
#include <string_view>

#include "crypto/hash.h"

namespace sipreg::auth {

enum class DigestAlgorithm : uint8_t {
    Md5,
    Md5Sess,
    Sha256,
    Sha256Sess,
    Sha512_256,
    Sha512_256Sess,
};

// Case-insensitive: "MD5", "md5-sess", "SHA-256", "SHA-512-256-sess", ...
std::optional<DigestAlgorithm> parseDigestAlgorithm(std::string_view token) noexcept;
// The canonical token: "MD5", "MD5-sess", "SHA-256", "SHA-256-sess", "SHA-512-256", ...
std::string_view algorithmToken(DigestAlgorithm algorithm) noexcept;
crypto::HashAlgorithm hashOf(DigestAlgorithm algorithm) noexcept;
bool isSessionVariant(DigestAlgorithm algorithm) noexcept;
// The non-session algorithm with the same hash (Md5Sess -> Md5); HA1 values are keyed by it.
DigestAlgorithm baseOf(DigestAlgorithm algorithm) noexcept;
// Preference order when a server offers several: SHA-512-256 (3) > SHA-256 (2) > MD5 (1);
// a -sess variant ranks with its base.
int strength(DigestAlgorithm algorithm) noexcept;

}  // namespace sipreg::auth
