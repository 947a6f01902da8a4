#include "auth/digest_session.h"

#include "auth/authorization_format.h"
#include "auth/digest_response.h"
#include "crypto/hex.h"
#include "crypto/random_token.h"

namespace sipreg::auth {

namespace {

constexpr std::size_t kCnonceBytes = 16;

}  // namespace

std::string_view verdictName(ChallengeVerdict verdict) noexcept {
    switch (verdict) {
        case ChallengeVerdict::FirstChallenge: return "first challenge";
        case ChallengeVerdict::StaleNonce: return "stale nonce";
        case ChallengeVerdict::KeptNonceRefused: return "kept nonce refused";
        case ChallengeVerdict::Rejected: return "credentials rejected";
    }
    return "unknown";
}

DigestSession::DigestSession(DigestCredentials credentials, crypto::RandomSource& random,
                             DigestOptions options)
    : credentials_(std::move(credentials)), random_(random), options_(std::move(options)) {}

DigestSession::~DigestSession() { wipeCachedHa1s(); }

void DigestSession::wipeCachedHa1s() noexcept {
    for (RealmState& s : realms_) crypto::secureWipe(s.ha1);
}

Result<const std::string*> DigestSession::passwordHa1(RealmState& state) {
    const DigestChallenge& c = state.selected.challenge;
    if (state.ha1.empty() || state.ha1Algorithm != c.algorithm) {
        auto computed = computeHa1(c.algorithm, credentials_.username, c.realm, *credentials_.password);
        if (!computed) return computed.error();
        crypto::secureWipe(state.ha1);
        state.ha1 = std::move(computed.value());
        state.ha1Algorithm = c.algorithm;
    }
    return &state.ha1;
}

DigestSession::RealmState* DigestSession::find(std::string_view realm, bool isProxy) noexcept {
    for (RealmState& s : realms_) {
        if (s.proxy == isProxy && s.selected.challenge.realm == realm) return &s;
    }
    return nullptr;
}

const DigestSession::RealmState* DigestSession::find(std::string_view realm,
                                                     bool isProxy) const noexcept {
    for (const RealmState& s : realms_) {
        if (s.proxy == isProxy && s.selected.challenge.realm == realm) return &s;
    }
    return nullptr;
}

Result<ChallengeOutcome> DigestSession::onChallenge(std::span<const sip::AuthValue> challenges,
                                                    bool isProxy) {
    auto selected = selectChallenge(challenges, credentials_, options_);
    if (!selected) return selected.error();
    SelectedChallenge& chosen = selected.value();

    RealmState* state = find(chosen.challenge.realm, isProxy);
    if (state == nullptr) {
        realms_.push_back(RealmState{});
        state = &realms_.back();
        state->proxy = isProxy;
    }

    ChallengeVerdict verdict = ChallengeVerdict::FirstChallenge;
    if (state->sent != Sent::Nothing) {
        if (chosen.challenge.stale) {
            verdict = ChallengeVerdict::StaleNonce;
        } else if (state->sent == Sent::Preemptive &&
                   state->selected.challenge.nonce != chosen.challenge.nonce) {
            verdict = ChallengeVerdict::KeptNonceRefused;
        } else {
            verdict = ChallengeVerdict::Rejected;
        }
    }

    // The server counts requests per nonce, so the count only restarts with a new nonce.
    if (state->selected.challenge.nonce != chosen.challenge.nonce) state->nc = 0;
    state->selected = std::move(chosen);
    state->sent = Sent::Nothing;
    state->challengedSinceSuccess = true;
    if (state->challengesInARow < UINT32_MAX) ++state->challengesInARow;

    ChallengeOutcome outcome;
    outcome.verdict = verdict;
    outcome.challengesInARow = state->challengesInARow;
    outcome.retry = verdict != ChallengeVerdict::Rejected &&
                    state->challengesInARow <= kMaxChallengesInARow;
    outcome.proxy = isProxy;
    outcome.realm = state->selected.challenge.realm;
    outcome.algorithm = state->selected.challenge.algorithm;
    outcome.qop = state->selected.qop;
    return outcome;
}

Result<ChallengeOutcome> DigestSession::onChallenge(const sip::Message& response) {
    if (!response.isResponse() ||
        (response.statusCode() != 401 && response.statusCode() != 407)) {
        return makeError("Digest: a challenge must be a 401 or 407 response");
    }
    const bool isProxy = response.statusCode() == 407;
    auto values = isProxy ? sip::proxyAuthenticate(response) : sip::wwwAuthenticate(response);
    if (!values) {
        return makeError(std::string(isProxy ? "Proxy-Authenticate" : "WWW-Authenticate") + ": " +
                         values.error().message);
    }
    return onChallenge(values.value(), isProxy);
}

Result<std::string> DigestSession::credentialsFor(RealmState& state, std::string_view method,
                                                  std::string_view uri, std::string_view body) {
    const DigestChallenge& c = state.selected.challenge;
    const Qop qop = state.selected.qop;
    if (state.nc == UINT32_MAX) {
        return makeError("Digest realm \"" + c.realm + "\": nonce count exhausted for this nonce");
    }

    std::string storedHa1;  // a copy of a configured HA1, wiped after use
    const std::string* ha1 = nullptr;
    if (auto stored = credentials_.ha1For(c.algorithm)) {
        storedHa1 = std::move(*stored);
        ha1 = &storedHa1;
    } else if (credentials_.password) {
        auto cached = passwordHa1(state);
        if (!cached) return cached.error();
        ha1 = cached.value();
    } else {
        return makeError("Digest realm \"" + c.realm + "\": no password and no usable password_ha1 for " +
                         std::string(algorithmToken(baseOf(c.algorithm))));
    }

    const bool needsCnonce = qop != Qop::None || isSessionVariant(c.algorithm);
    const std::string cnonce =
        needsCnonce ? crypto::randomToken(random_, kCnonceBytes) : std::string();
    const uint32_t nc = state.nc + 1;
    const std::string ncText = formatNonceCount(nc);

    DigestResponseInput in;
    in.algorithm = c.algorithm;
    in.ha1 = *ha1;
    in.nonce = c.nonce;
    in.method = method;
    in.uri = uri;
    in.qop = qop;
    in.cnonce = cnonce;
    in.nc = ncText;
    in.body = body;
    auto response = computeResponse(in);
    crypto::secureWipe(storedHa1);
    if (!response) return response.error();

    std::string username = credentials_.username;
    if (c.userhash) {
        auto hashed = computeUserhash(c.algorithm, credentials_.username, c.realm);
        if (!hashed) return hashed.error();
        username = std::move(hashed.value());
    }

    DigestAuthorizationFields f;
    f.username = username;
    f.userhash = c.userhash;
    f.realm = c.realm;
    f.nonce = c.nonce;
    f.uri = uri;
    f.response = response.value();
    f.algorithmText = c.algorithmText;
    f.cnonce = cnonce;
    if (c.opaque) f.opaque = *c.opaque;
    f.qop = qop;
    f.nc = nc;
    auto value = formatDigestAuthorization(f);
    if (!value) return value.error();

    state.nc = nc;
    state.sent = state.challengedSinceSuccess ? Sent::AnsweringChallenge : Sent::Preemptive;
    return value;
}

Result<std::vector<AuthorizationField>> DigestSession::authorize(std::string_view method,
                                                                 std::string_view uri,
                                                                 std::string_view body) {
    std::vector<AuthorizationField> fields;
    fields.reserve(realms_.size());
    for (RealmState& state : realms_) {
        auto value = credentialsFor(state, method, uri, body);
        if (!value) return value.error();
        fields.push_back(AuthorizationField{
            state.proxy ? sip::HeaderId::ProxyAuthorization : sip::HeaderId::Authorization,
            std::move(value.value())});
    }
    return fields;
}

void DigestSession::onAuthenticated() noexcept {
    for (RealmState& s : realms_) {
        s.challengedSinceSuccess = false;
        s.sent = Sent::Nothing;
        s.challengesInARow = 0;
    }
}

void DigestSession::forget() noexcept {
    wipeCachedHa1s();
    realms_.clear();
}

bool DigestSession::hasCredentialsFor(std::string_view realm) const {
    if (options_.realmPin && *options_.realmPin != realm) return false;
    return credentials_.hasAnySecret();
}

uint32_t DigestSession::nonceCount(std::string_view realm, bool isProxy) const noexcept {
    const RealmState* s = find(realm, isProxy);
    return s ? s->nc : 0;
}

}  // namespace sipreg::auth
