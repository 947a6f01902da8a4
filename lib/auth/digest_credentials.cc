#include "auth/digest_credentials.h"

#include "crypto/hex.h"

namespace sipreg::auth {

namespace {

bool usableHa1(DigestAlgorithm algorithm, std::string_view hex) {
    return hex.size() == 2 * crypto::digestSize(hashOf(algorithm)) && crypto::isHex(hex);
}

}  // namespace

Result<void> DigestCredentials::setHa1(std::string_view algorithm, std::string_view hex) {
    auto parsed = parseDigestAlgorithm(algorithm);
    if (!parsed) {
        return makeError("password_ha1: unknown algorithm \"" + std::string(algorithm) +
                         "\" (expected MD5, SHA-256 or SHA-512-256)");
    }
    const DigestAlgorithm base = baseOf(*parsed);
    if (!usableHa1(base, hex)) {
        return makeError("password_ha1 for " + std::string(algorithmToken(base)) + ": expected " +
                         std::to_string(2 * crypto::digestSize(hashOf(base))) +
                         " hexadecimal digits");
    }
    passwordHa1[base] = crypto::toLowerHex(hex);
    return {};
}

std::optional<std::string> DigestCredentials::ha1For(DigestAlgorithm algorithm) const {
    const DigestAlgorithm base = baseOf(algorithm);
    for (DigestAlgorithm key : {base, algorithm}) {
        auto it = passwordHa1.find(key);
        if (it != passwordHa1.end() && usableHa1(base, it->second)) {
            return crypto::toLowerHex(it->second);
        }
    }
    return std::nullopt;
}

bool DigestCredentials::canAnswer(DigestAlgorithm algorithm) const {
    return password.has_value() || ha1For(algorithm).has_value();
}

bool DigestCredentials::hasAnySecret() const {
    if (password) return true;
    for (const auto& [algorithm, hex] : passwordHa1) {
        if (usableHa1(algorithm, hex)) return true;
    }
    return false;
}

}  // namespace sipreg::auth
