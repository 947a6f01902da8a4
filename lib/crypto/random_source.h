#pragma once
// Where random bytes come from. Production code uses OpenSslRandomSource (a CSPRNG); tests
// inject DeterministicRandomSource so cnonces, tags and branches are reproducible.
#include <cstddef>
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
//
// Small requests (branches, tags, cnonces: 8-16 bytes, several per registration) are served
// from a block drawn in one RAND_bytes call: each call costs a few microseconds of DRBG
// locking and setup, which at thousands of registrations a second was the largest cost of
// the digest path. Bytes handed out are wiped from the block at once, so nothing served
// lingers. Not for use across fork() (the process never forks after start-up).
class OpenSslRandomSource final : public RandomSource {
public:
    static constexpr std::size_t kBlockBytes = 512;

    OpenSslRandomSource();
    ~OpenSslRandomSource() override;
    OpenSslRandomSource(const OpenSslRandomSource&) = delete;
    OpenSslRandomSource& operator=(const OpenSslRandomSource&) = delete;
    void fill(std::span<uint8_t> out) override;

private:
    uint8_t block_[kBlockBytes] = {};
    std::size_t used_ = kBlockBytes;  // bytes of block_ already handed out (and wiped)
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
