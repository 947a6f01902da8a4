#pragma once
// Byte-to-text encodings for digests and random tokens.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace sipreg::crypto {

std::string toHex(std::span<const uint8_t> bytes);             // lowercase
std::string toBase64Url(std::span<const uint8_t> bytes);       // RFC 4648 section 5, no padding
bool isHex(std::string_view text) noexcept;                    // non-empty, [0-9a-fA-F] only
std::string toLowerHex(std::string_view hexText);              // ASCII lowercase of a hex string

// Overwrites the string's characters before it is released (for passwords and HA1 values).
void secureWipe(std::string& secret) noexcept;

}  // namespace sipreg::crypto
