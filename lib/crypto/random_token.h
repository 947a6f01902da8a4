#pragma once
// Random identifiers (cnonce, From tag, Via branch suffix, Call-ID) drawn from a RandomSource.
#include <cstddef>
#include <cstdint>
#include <string>

#include "crypto/random_source.h"

namespace sipreg::crypto {

enum class TokenEncoding : uint8_t {
    Hex,        // lowercase, 2 characters per byte
    Base64Url,  // RFC 4648 section 5 without padding; every character is a SIP token char
};

// `bytes` random bytes from `source`, encoded. 16 bytes (128 bits) is the usual choice.
std::string randomToken(RandomSource& source, std::size_t bytes,
                        TokenEncoding encoding = TokenEncoding::Hex);

}  // namespace sipreg::crypto
