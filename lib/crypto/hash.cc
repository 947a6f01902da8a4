#include "crypto/hash.h"

#include <openssl/evp.h>

#include "crypto/hex.h"

namespace sipreg::crypto {

namespace {

// OpenSSL 3 looks the implementation up in its provider store on every EVP_DigestInit_ex
// given a legacy EVP_md5()-style object; fetching it once per algorithm avoids that
// (it was a third of the cost of hashing the short strings Digest hashes). The fetched
// objects live as long as the process.
EVP_MD* fetchOnce(const char* name) noexcept { return EVP_MD_fetch(nullptr, name, nullptr); }

const EVP_MD* evpFor(HashAlgorithm algorithm) noexcept {
    switch (algorithm) {
        case HashAlgorithm::Md5: {
            static EVP_MD* const md = fetchOnce("MD5");
            return md;
        }
        case HashAlgorithm::Sha256: {
            static EVP_MD* const md = fetchOnce("SHA2-256");
            return md;
        }
        case HashAlgorithm::Sha512_256: {
            static EVP_MD* const md = fetchOnce("SHA2-512/256");
            return md;
        }
    }
    return nullptr;
}

struct MdCtxFree {
    void operator()(EVP_MD_CTX* ctx) const noexcept { EVP_MD_CTX_free(ctx); }
};

}  // namespace

std::size_t digestSize(HashAlgorithm algorithm) noexcept {
    switch (algorithm) {
        case HashAlgorithm::Md5: return 16;
        case HashAlgorithm::Sha256: return 32;
        case HashAlgorithm::Sha512_256: return 32;
    }
    return 0;
}

std::string_view hashName(HashAlgorithm algorithm) noexcept {
    switch (algorithm) {
        case HashAlgorithm::Md5: return "MD5";
        case HashAlgorithm::Sha256: return "SHA-256";
        case HashAlgorithm::Sha512_256: return "SHA-512/256";
    }
    return "unknown";
}

struct Hasher::State {
    HashAlgorithm algorithm;
    std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx;
    // A failure is remembered rather than thrown so that update() chains stay simple and the
    // caller sees one error from finishHex().
    bool failed = false;
};

Hasher::Hasher(HashAlgorithm algorithm) : state_(std::make_unique<State>()) {
    state_->algorithm = algorithm;
    state_->ctx.reset(EVP_MD_CTX_new());
    const EVP_MD* md = evpFor(algorithm);
    if (!state_->ctx || md == nullptr || EVP_DigestInit_ex(state_->ctx.get(), md, nullptr) != 1) {
        state_->failed = true;
    }
}

Hasher::~Hasher() = default;
Hasher::Hasher(Hasher&&) noexcept = default;
Hasher& Hasher::operator=(Hasher&&) noexcept = default;

Hasher& Hasher::update(std::string_view data) {
    if (!state_ || state_->failed) return *this;
    if (!data.empty() && EVP_DigestUpdate(state_->ctx.get(), data.data(), data.size()) != 1) {
        state_->failed = true;
    }
    return *this;
}

Hasher& Hasher::update(std::span<const uint8_t> data) {
    return update(std::string_view(reinterpret_cast<const char*>(data.data()), data.size()));
}

Result<std::string> Hasher::finishHex() {
    if (!state_) return makeError("hash: hasher used after it was finished or moved from");
    const HashAlgorithm algorithm = state_->algorithm;
    const bool failed = state_->failed;
    uint8_t digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    const bool finished =
        !failed && EVP_DigestFinal_ex(state_->ctx.get(), digest, &length) == 1;
    state_.reset();
    if (!finished || length != digestSize(algorithm)) {
        return makeError("hash: OpenSSL cannot compute " + std::string(hashName(algorithm)));
    }
    return toHex(std::span<const uint8_t>(digest, length));
}

Result<std::string> hashHex(HashAlgorithm algorithm, std::string_view data) {
    Hasher hasher(algorithm);
    hasher.update(data);
    return hasher.finishHex();
}

}  // namespace sipreg::crypto
