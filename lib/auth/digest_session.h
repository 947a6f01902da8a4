#pragma once
// Per-line Digest state: which challenge each realm last asked for, the nonce count used with
// its nonce, and whether the credentials were just refused.
//
// Flow: a 401/407 arrives -> onChallenge(); if outcome.retry, send the request again with
// authorize()'s fields; on a success call onAuthenticated(). Later requests (e.g. refreshes)
// call authorize() before sending: it answers the kept challenge preemptively with the kept
// nonce and nc incremented (a new nonce starts again at nc=00000001). Each authorize() call
// draws a fresh cnonce from the injected RandomSource and counts as one request.
//
// How a challenge is classified (ChallengeVerdict), per realm and header kind:
//   FirstChallenge   No credentials were sent for this realm since its last challenge.
//   StaleNonce       stale=true: the server accepted the credentials but not the nonce.
//   KeptNonceRefused The last credentials were sent preemptively with a kept nonce (no
//                    challenge since the last onAuthenticated()) and the server challenges
//                    with a different nonce without stale=true: servers that never set stale
//                    do this when a nonce expires, so answering once more is right.
//   Rejected         Otherwise, when credentials were sent and the challenge lacks
//                    stale=true (RFC 7616 section 3.3: the username or password is wrong):
//                    the same nonce is challenged again, or credentials that answered a
//                    challenge drew another one, whatever its nonce. Do not retry.
// retry is false for Rejected and once challengesInARow exceeds kMaxChallengesInARow (a server
// repeating stale=true forever must not make the line loop).
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "auth/challenge_selection.h"
#include "auth/digest_credentials.h"
#include "crypto/random_source.h"
#include "sip/header_id.h"
#include "sip/message.h"
#include "sip/typed_headers.h"
#include "util/result.h"

namespace sipreg::auth {

enum class ChallengeVerdict : uint8_t { FirstChallenge, StaleNonce, KeptNonceRefused, Rejected };
std::string_view verdictName(ChallengeVerdict verdict) noexcept;

struct ChallengeOutcome {
    ChallengeVerdict verdict = ChallengeVerdict::FirstChallenge;
    bool retry = false;              // send the request again with authorize()
    uint32_t challengesInARow = 0;   // challenges for this realm since the last onAuthenticated()
    bool proxy = false;              // answered in Proxy-Authorization (407)
    std::string realm;
    DigestAlgorithm algorithm = DigestAlgorithm::Md5;
    Qop qop = Qop::None;
};

struct AuthorizationField {
    sip::HeaderId header = sip::HeaderId::Authorization;  // or ProxyAuthorization
    std::string value;                                    // contains the response: never log it whole
};

class DigestSession {
public:
    static constexpr uint32_t kMaxChallengesInARow = 4;

    // `random` must outlive the session; it supplies every cnonce.
    DigestSession(DigestCredentials credentials, crypto::RandomSource& random,
                  DigestOptions options = {});
    // Copies would reuse nonce counts and cnonce bookkeeping, so a session is not copied.
    DigestSession(const DigestSession&) = delete;
    DigestSession& operator=(const DigestSession&) = delete;
    DigestSession(DigestSession&&) = default;
    ~DigestSession();

    // Picks a challenge among `challenges` (every WWW-Authenticate value of a 401 with
    // isProxy=false, or every Proxy-Authenticate value of a 407 with isProxy=true; see
    // selectChallenge for the choice and its errors) and keeps it for its realm.
    Result<ChallengeOutcome> onChallenge(std::span<const sip::AuthValue> challenges, bool isProxy);
    // The same for a 401 or 407 response; any other status is an error.
    Result<ChallengeOutcome> onChallenge(const sip::Message& response);

    // The fields to add to the next request: one per kept realm (usually one), empty before
    // any challenge. `uri` is the Request-URI as sent; `body` is hashed only for auth-int.
    Result<std::vector<AuthorizationField>> authorize(std::string_view method, std::string_view uri,
                                                      std::string_view body = {});

    // A final non-401/407 response to an authorized request: the credentials were accepted.
    void onAuthenticated() noexcept;
    // Drops every kept challenge (e.g. after the registration was removed).
    void forget() noexcept;

    // Whether a challenge from `realm` could be answered: the realm pin allows it and there is
    // a password or a usable HA1.
    bool hasCredentialsFor(std::string_view realm) const;
    // Whether authorize() would add anything (a challenge is kept).
    bool hasKeptChallenge() const noexcept { return !realms_.empty(); }
    // The nc sent last with the kept nonce of that realm (0 if none was sent yet).
    uint32_t nonceCount(std::string_view realm, bool isProxy) const noexcept;

    const DigestOptions& options() const noexcept { return options_; }

private:
    enum class Sent : uint8_t { Nothing, AnsweringChallenge, Preemptive };
    struct RealmState {
        bool proxy = false;
        SelectedChallenge selected;
        uint32_t nc = 0;
        Sent sent = Sent::Nothing;
        bool challengedSinceSuccess = false;
        uint32_t challengesInARow = 0;
        // H(username:realm:password) for ha1Algorithm, computed from the password once
        // rather than on every request (a refresh answers two challenges). Wiped when the
        // state is dropped. Empty when the HA1 comes from the credentials or none is known.
        std::string ha1;
        DigestAlgorithm ha1Algorithm = DigestAlgorithm::Md5;
    };

    RealmState* find(std::string_view realm, bool isProxy) noexcept;
    const RealmState* find(std::string_view realm, bool isProxy) const noexcept;
    Result<std::string> credentialsFor(RealmState& state, std::string_view method,
                                       std::string_view uri, std::string_view body);
    // The password-derived HA1 for the state's current challenge, cached in the state.
    Result<const std::string*> passwordHa1(RealmState& state);
    void wipeCachedHa1s() noexcept;

    DigestCredentials credentials_;
    crypto::RandomSource& random_;
    DigestOptions options_;
    std::vector<RealmState> realms_;
};

}  // namespace sipreg::auth
