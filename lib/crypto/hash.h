#pragma once
// Message digests used by HTTP/SIP Digest authentication (RFC 7616, RFC 8760), with the
// lowercase hex output those RFCs hash and compare.
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "util/result.h"

namespace sipreg::crypto {

enum class HashAlgorithm : uint8_t {
    Md5,
    Sha256,
    Sha512_256,  // FIPS 180-4 SHA-512/256 (its own initial values, not a truncated SHA-512)
};

// Digest length in bytes (16, 32, 32); the hex form is twice as long.
std::size_t digestSize(HashAlgorithm algorithm) noexcept;
std::string_view hashName(HashAlgorithm algorithm) noexcept;  // "MD5", "SHA-256", "SHA-512/256"

// Incremental hashing: feeding the parts of "user:realm:password" one by one avoids building
// a heap copy of the password that would outlive the call.
class Hasher {
public:
    explicit Hasher(HashAlgorithm algorithm);
    ~Hasher();
    Hasher(const Hasher&) = delete;
    Hasher& operator=(const Hasher&) = delete;
    Hasher(Hasher&&) noexcept;
    Hasher& operator=(Hasher&&) noexcept;

    Hasher& update(std::string_view data);
    Hasher& update(std::span<const uint8_t> data);
    // Lowercase hex of the digest. Fails only when OpenSSL cannot provide the algorithm
    // (e.g. MD5 under a FIPS-only configuration); the hasher is spent afterwards.
    Result<std::string> finishHex();

private:
    struct State;
    std::unique_ptr<State> state_;
};

// One-shot convenience: lowercase hex of H(data).
Result<std::string> hashHex(HashAlgorithm algorithm, std::string_view data);

}  // namespace sipreg::crypto
