#include "auth/challenge_selection.h"

namespace sipreg::auth {

Qop chooseQop(const DigestChallenge& challenge, const DigestOptions& options) noexcept {
    if (!challenge.qopOffered) return Qop::None;
    if (challenge.offersAuthInt && (options.preferAuthInt || !challenge.offersAuth)) {
        return Qop::AuthInt;
    }
    return Qop::Auth;
}

Result<SelectedChallenge> selectChallenge(std::span<const sip::AuthValue> challenges,
                                          const DigestCredentials& credentials,
                                          const DigestOptions& options) {
    std::optional<DigestChallenge> best;
    std::string skipped;
    auto note = [&skipped](const std::string& why) {
        skipped += skipped.empty() ? "" : "; ";
        skipped += why;
    };
    std::size_t digestCount = 0;
    std::string otherSchemes;

    for (const sip::AuthValue& value : challenges) {
        auto parsed = parseDigestChallenge(value);
        if (!parsed) {
            ++digestCount;
            note(parsed.error().message);
            continue;
        }
        if (!parsed.value()) {
            otherSchemes += otherSchemes.empty() ? "" : ", ";
            otherSchemes += std::string(value.scheme);
            continue;
        }
        ++digestCount;
        DigestChallenge& c = *parsed.value();
        const std::string label =
            std::string(algorithmToken(c.algorithm)) + " challenge in realm \"" + c.realm + "\"";
        if (options.realmPin && c.realm != *options.realmPin) {
            note(label + " refused: the line is pinned to realm \"" + *options.realmPin + "\"");
            continue;
        }
        if (!credentials.canAnswer(c.algorithm)) {
            note(label + " skipped: no password and no usable password_ha1 for " +
                 std::string(algorithmToken(baseOf(c.algorithm))));
            continue;
        }
        if (!best || strength(c.algorithm) > strength(best->algorithm)) best = std::move(c);
    }

    if (best) {
        SelectedChallenge selected{std::move(*best), Qop::None};
        selected.qop = chooseQop(selected.challenge, options);
        return selected;
    }
    if (digestCount == 0) {
        return makeError("no Digest challenge offered" +
                         (otherSchemes.empty() ? std::string() : " (schemes: " + otherSchemes + ")"));
    }
    return makeError("no usable Digest challenge: " + skipped);
}

}  // namespace sipreg::auth
