#include "auth/authorization_format.h"

#include "auth/ascii.h"

namespace sipreg::auth {

namespace {

bool isAlgorithmChar(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
}

}  // namespace

std::string formatNonceCount(uint32_t nc) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out(8, '0');
    for (int i = 7; i >= 0; --i) {
        out[static_cast<std::size_t>(i)] = kDigits[nc & 0xf];
        nc >>= 4;
    }
    return out;
}

Result<std::string> formatDigestAuthorization(const DigestAuthorizationFields& f) {
    std::string out = "Digest";
    bool first = true;
    auto sep = [&] {
        out += first ? " " : ", ";
        first = false;
    };
    std::string badField;
    auto quoted = [&](std::string_view name, std::string_view value) {
        if (!ascii::isQuotable(value) && badField.empty()) badField = std::string(name);
        sep();
        out += name;
        out += '=';
        out += ascii::quote(value);
    };
    auto token = [&](std::string_view name, std::string_view value) {
        sep();
        out += name;
        out += '=';
        out += value;
    };

    quoted("username", f.username);
    quoted("realm", f.realm);
    quoted("nonce", f.nonce);
    quoted("uri", f.uri);
    quoted("response", f.response);
    if (!f.algorithmText.empty()) {
        for (char c : f.algorithmText) {
            if (!isAlgorithmChar(c)) return makeError("Digest credentials: algorithm is not a token");
        }
        token("algorithm", f.algorithmText);
    }
    if (!f.cnonce.empty()) quoted("cnonce", f.cnonce);
    if (f.opaque) quoted("opaque", *f.opaque);
    if (f.qop != Qop::None) {
        token("qop", qopToken(f.qop));
        token("nc", formatNonceCount(f.nc));
    }
    if (f.userhash) token("userhash", "true");

    if (!badField.empty()) {
        return makeError("Digest credentials: " + badField +
                         " contains a control character and cannot be sent");
    }
    return out;
}

}  // namespace sipreg::auth
