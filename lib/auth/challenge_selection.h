#pragma once
// Choosing which of several challenges to answer (RFC 7616 section 3.7: a server may offer one
// challenge per algorithm, in one header or several; the client uses the strongest it supports).
#include <optional>
#include <span>
#include <string>

#include "auth/digest_challenge.h"
#include "auth/digest_credentials.h"
#include "sip/typed_headers.h"
#include "util/result.h"

namespace sipreg::auth {

struct DigestOptions {
    // When set, challenges for any other realm are refused (compared exactly, as realms are
    // opaque strings): the error names both realms.
    std::optional<std::string> realmPin;
    // With qop="auth,auth-int", use auth-int; by default auth is used.
    bool preferAuthInt = false;
};

struct SelectedChallenge {
    DigestChallenge challenge;
    Qop qop = Qop::None;
};

// The strongest answerable Digest challenge (SHA-512-256 > SHA-256 > MD5, -sess ranking with
// its base, the earlier one on a tie). Non-Digest schemes, unknown algorithms, other realms
// (when pinned) and algorithms without a password or usable HA1 are skipped; when nothing is
// left the error lists every challenge offered and why it was skipped.
Result<SelectedChallenge> selectChallenge(std::span<const sip::AuthValue> challenges,
                                          const DigestCredentials& credentials,
                                          const DigestOptions& options);

// The qop to answer a challenge with under `options`.
Qop chooseQop(const DigestChallenge& challenge, const DigestOptions& options) noexcept;

}  // namespace sipreg::auth
