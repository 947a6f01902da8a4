#include "auth/digest_algorithm.h"

#include <array>

#include "auth/ascii.h"

namespace sipreg::auth {

namespace {

constexpr std::array kAll{
    DigestAlgorithm::Md5,        DigestAlgorithm::Md5Sess,    DigestAlgorithm::Sha256,
    DigestAlgorithm::Sha256Sess, DigestAlgorithm::Sha512_256, DigestAlgorithm::Sha512_256Sess,
};

}  // namespace

std::optional<DigestAlgorithm> parseDigestAlgorithm(std::string_view token) noexcept {
    for (DigestAlgorithm a : kAll) {
        if (ascii::iequals(token, algorithmToken(a))) return a;
    }
    return std::nullopt;
}

std::string_view algorithmToken(DigestAlgorithm algorithm) noexcept {
    switch (algorithm) {
        case DigestAlgorithm::Md5: return "MD5";
        case DigestAlgorithm::Md5Sess: return "MD5-sess";
        case DigestAlgorithm::Sha256: return "SHA-256";
        case DigestAlgorithm::Sha256Sess: return "SHA-256-sess";
        case DigestAlgorithm::Sha512_256: return "SHA-512-256";
        case DigestAlgorithm::Sha512_256Sess: return "SHA-512-256-sess";
    }
    return "MD5";
}

crypto::HashAlgorithm hashOf(DigestAlgorithm algorithm) noexcept {
    switch (baseOf(algorithm)) {
        case DigestAlgorithm::Sha256: return crypto::HashAlgorithm::Sha256;
        case DigestAlgorithm::Sha512_256: return crypto::HashAlgorithm::Sha512_256;
        default: return crypto::HashAlgorithm::Md5;
    }
}

bool isSessionVariant(DigestAlgorithm algorithm) noexcept {
    return algorithm == DigestAlgorithm::Md5Sess || algorithm == DigestAlgorithm::Sha256Sess ||
           algorithm == DigestAlgorithm::Sha512_256Sess;
}

DigestAlgorithm baseOf(DigestAlgorithm algorithm) noexcept {
    switch (algorithm) {
        case DigestAlgorithm::Md5Sess: return DigestAlgorithm::Md5;
        case DigestAlgorithm::Sha256Sess: return DigestAlgorithm::Sha256;
        case DigestAlgorithm::Sha512_256Sess: return DigestAlgorithm::Sha512_256;
        default: return algorithm;
    }
}

int strength(DigestAlgorithm algorithm) noexcept {
    switch (baseOf(algorithm)) {
        case DigestAlgorithm::Sha512_256: return 3;
        case DigestAlgorithm::Sha256: return 2;
        default: return 1;
    }
}

}  // namespace sipreg::auth
