#include "auth/digest_challenge.h"

#include "auth/ascii.h"

namespace sipreg::auth {

namespace {

// The unquoted value, or nullopt when the parameter is absent or has no "=value".
std::optional<std::string> paramValue(const sip::ParamList& params, std::string_view name) {
    const sip::GenericParam* p = params.find(name);
    if (p == nullptr || !p->hasValue) return std::nullopt;
    return params.unquoted(name);
}

bool isTrue(const std::optional<std::string>& v) {
    return v && ascii::iequals(ascii::trim(*v), "true");
}

}  // namespace

std::string_view qopToken(Qop qop) noexcept {
    switch (qop) {
        case Qop::None: return "";
        case Qop::Auth: return "auth";
        case Qop::AuthInt: return "auth-int";
    }
    return "";
}

Result<std::optional<DigestChallenge>> parseDigestChallenge(const sip::AuthValue& value) {
    if (!ascii::iequals(value.scheme, "Digest")) return std::optional<DigestChallenge>{};
    const sip::ParamList& params = value.params;
    DigestChallenge c;

    auto realm = paramValue(params, "realm");
    if (!realm) return makeError("Digest challenge: missing realm");
    c.realm = std::move(*realm);

    auto nonce = paramValue(params, "nonce");
    if (!nonce) return makeError("Digest challenge in realm \"" + c.realm + "\": missing nonce");
    c.nonce = std::move(*nonce);

    c.opaque = paramValue(params, "opaque");

    if (auto algorithm = paramValue(params, "algorithm")) {
        const std::string_view text = ascii::trim(*algorithm);
        auto parsed = parseDigestAlgorithm(text);
        if (!parsed) {
            return makeError("Digest challenge in realm \"" + c.realm +
                             "\": unsupported algorithm \"" + std::string(text) + "\"");
        }
        c.algorithm = *parsed;
        c.algorithmText = std::string(text);
    }

    if (auto qop = paramValue(params, "qop")) {
        c.qopOffered = true;
        for (std::string_view option : ascii::splitTrimmed(*qop, ',')) {
            if (ascii::iequals(option, "auth")) c.offersAuth = true;
            if (ascii::iequals(option, "auth-int")) c.offersAuthInt = true;
        }
        if (!c.offersAuth && !c.offersAuthInt) {
            return makeError("Digest challenge in realm \"" + c.realm + "\": qop \"" + *qop +
                             "\" offers neither auth nor auth-int");
        }
    }

    c.stale = isTrue(paramValue(params, "stale"));
    c.userhash = isTrue(paramValue(params, "userhash"));
    if (auto domain = paramValue(params, "domain")) {
        for (std::string_view uri : ascii::splitTrimmed(*domain, ' ')) c.domain.emplace_back(uri);
    }
    c.charset = paramValue(params, "charset");
    return std::optional<DigestChallenge>(std::move(c));
}

}  // namespace sipreg::auth
