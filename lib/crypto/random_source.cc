#include "crypto/random_source.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace sipreg::crypto {

namespace {

void drawFromOpenSsl(std::span<uint8_t> out) {
    // RAND_bytes takes an int length, so large requests go in bounded chunks.
    constexpr std::size_t kChunk = 1 << 20;
    std::size_t done = 0;
    while (done < out.size()) {
        const std::size_t n = std::min(kChunk, out.size() - done);
        if (RAND_bytes(out.data() + done, static_cast<int>(n)) != 1) {
            throw std::runtime_error("OpenSSL random generator failed (RAND_bytes)");
        }
        done += n;
    }
}

}  // namespace

OpenSslRandomSource::OpenSslRandomSource() {
    uint8_t probe[16];
    drawFromOpenSsl(probe);
    OPENSSL_cleanse(probe, sizeof probe);
}

OpenSslRandomSource::~OpenSslRandomSource() { OPENSSL_cleanse(block_, sizeof block_); }

void OpenSslRandomSource::fill(std::span<uint8_t> out) {
    if (out.size() > kBlockBytes / 4) {
        drawFromOpenSsl(out);
        return;
    }
    std::size_t done = 0;
    while (done < out.size()) {
        if (used_ == kBlockBytes) {
            drawFromOpenSsl(block_);
            used_ = 0;
        }
        const std::size_t n = std::min(out.size() - done, kBlockBytes - used_);
        std::memcpy(out.data() + done, block_ + used_, n);
        OPENSSL_cleanse(block_ + used_, n);
        used_ += n;
        done += n;
    }
}

uint64_t DeterministicRandomSource::next() noexcept {
    state_ += 0x9e3779b97f4a7c15ULL;
    uint64_t z = state_;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void DeterministicRandomSource::fill(std::span<uint8_t> out) {
    ++fills_;
    std::size_t i = 0;
    while (i < out.size()) {
        uint64_t v = next();
        for (int k = 0; k < 8 && i < out.size(); ++k, ++i) {
            out[i] = static_cast<uint8_t>(v & 0xff);
            v >>= 8;
        }
    }
}

}  // namespace sipreg::crypto
