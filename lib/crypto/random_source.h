#pragma once
// Where random bytes come from. Production code uses OpenSslRandomSource (a CSPRNG); tests
// inject DeterministicRandomSource so cnonces, tags and branches are reproducible.
#include <cstdint>
#include <span>

namespace sipreg::crypto {

class RandomSource {
public:
    virtual ~RandomSource() = default;
    // Fills every byte of `out`.
    virtual void fill(std::span<uint8_t> out) = 0;
};

// RAND_bytes from OpenSSL's default DRBG. The constructor draws once and throws
// std::runtime_error if the generator cannot be seeded (a start-up failure); fill() throws the
// same if OpenSSL fails later, because handing out predictable bytes is never acceptable.
class OpenSslRandomSource final : public RandomSource {
public:
    OpenSslRandomSource();
    void fill(std::span<uint8_t> out) override;
};

// A seeded, reproducible stream (SplitMix64). Not random in any security sense: for tests and
// simulations only.
class DeterministicRandomSource final : public RandomSource {
public:
    explicit DeterministicRandomSource(uint64_t seed) noexcept : state_(seed) {}
    void fill(std::span<uint8_t> out) override;
    uint64_t next() noexcept;
    // How many fill() calls have been served; lets tests prove a value came from this source.
    uint64_t fillCount() const noexcept { return fills_; }

private:
    uint64_t state_;
    uint64_t fills_ = 0;
};

}  // namespace sipreg::crypto
