#include "auth/digest_response.h"

#include "crypto/hash.h"

namespace sipreg::auth {

Result<std::string> computeHa1(DigestAlgorithm algorithm, std::string_view username,
                               std::string_view realm, std::string_view password) {
    crypto::Hasher hasher(hashOf(algorithm));
    hasher.update(username).update(":").update(realm).update(":").update(password);
    return hasher.finishHex();
}

Result<std::string> computeUserhash(DigestAlgorithm algorithm, std::string_view username,
                                    std::string_view realm) {
    crypto::Hasher hasher(hashOf(algorithm));
    hasher.update(username).update(":").update(realm);
    return hasher.finishHex();
}

Result<std::string> computeResponse(const DigestResponseInput& in) {
    const crypto::HashAlgorithm hash = hashOf(in.algorithm);

    std::string ha1(in.ha1);
    if (isSessionVariant(in.algorithm)) {
        crypto::Hasher sess(hash);
        sess.update(in.ha1).update(":").update(in.nonce).update(":").update(in.cnonce);
        auto derived = sess.finishHex();
        if (!derived) return derived.error();
        ha1 = std::move(derived.value());
    }

    crypto::Hasher a2(hash);
    a2.update(in.method).update(":").update(in.uri);
    if (in.qop == Qop::AuthInt) {
        auto bodyHash = crypto::hashHex(hash, in.body);
        if (!bodyHash) return bodyHash.error();
        a2.update(":").update(bodyHash.value());
    }
    auto ha2 = a2.finishHex();
    if (!ha2) return ha2.error();

    crypto::Hasher response(hash);
    response.update(ha1).update(":").update(in.nonce).update(":");
    if (in.qop != Qop::None) {
        response.update(in.nc).update(":").update(in.cnonce).update(":").update(qopToken(in.qop)).update(":");
    }
    response.update(ha2.value());
    return response.finishHex();
}

}  // namespace sipreg::auth
