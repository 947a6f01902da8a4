// libFuzzer target: each input line is one WWW-Authenticate value. Every value goes through
// parseAuthValues and parseDigestChallenge, all of them through selectChallenge (with a
// password, with a realm-pinned HA1, preferring auth-int) and through a DigestSession: a
// challenge it answers must yield an Authorization value that parses again, names the same
// realm and nonce, and whose redacted form hides the response. Redaction also gets each raw
// line, as a log line would.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "auth/challenge_selection.h"
#include "auth/digest_challenge.h"
#include "auth/digest_session.h"
#include "auth/redaction.h"
#include "crypto/random_source.h"
#include "sip/typed_headers.h"

using namespace sipreg;

namespace {

void touch(std::string_view v) {
    volatile unsigned char sink = 0;
    for (char c : v) sink = sink ^ static_cast<unsigned char>(c);
    (void)sink;
}

void touchChallenge(const auth::DigestChallenge& c) {
    touch(c.realm);
    touch(c.nonce);
    if (c.opaque) touch(*c.opaque);
    touch(c.algorithmText);
    for (const auto& d : c.domain) touch(d);
    if (c.charset) touch(*c.charset);
    (void)auth::chooseQop(c, {});
}

// Our own credentials must survive a registrar's parse, and the log form must not leak them.
void checkAuthorization(const std::string& value, const auth::ChallengeOutcome& outcome) {
    auto parsed = sip::parseAuthValues(value);
    if (!parsed || parsed->size() != 1) __builtin_trap();
    const sip::AuthValue& credentials = parsed->front();
    if (credentials.scheme != "Digest") __builtin_trap();
    if (credentials.params.unquoted("realm") != outcome.realm) __builtin_trap();
    auto response = credentials.params.unquoted("response");
    if (!response || response->empty()) __builtin_trap();
    if (auth::redactAuthorization(value).find(*response) != std::string::npos) __builtin_trap();
}

void runSession(std::span<const sip::AuthValue> values, bool proxy) {
    auth::DigestCredentials credentials;
    credentials.username = "alice";
    credentials.password = "fuzz-password";
    crypto::DeterministicRandomSource random(1);
    auth::DigestSession session(credentials, random);
    // First challenge, the same again (a refusal), then a success and a preemptive request.
    for (int round = 0; round < 2; ++round) {
        auto outcome = session.onChallenge(values, proxy);
        if (!outcome) return;
        (void)auth::verdictName(outcome->verdict);
        if (!outcome->retry) return;
        auto fields = session.authorize("REGISTER", "sip:example.com", "body");
        if (!fields) return;
        for (const auto& f : *fields) checkAuthorization(f.value, *outcome);
    }
    session.onAuthenticated();
    (void)session.authorize("REGISTER", "sip:example.com");
    session.forget();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);

    // Each line is stored on its own, as separate header values would be.
    std::vector<std::unique_ptr<std::string>> lines;
    std::vector<sip::AuthValue> values;
    std::size_t start = 0;
    while (start <= input.size() && lines.size() < 16) {
        const std::size_t end = std::min(input.find('\n', start), input.size());
        lines.push_back(std::make_unique<std::string>(input.substr(start, end - start)));
        start = end + 1;
    }
    for (const auto& line : lines) {
        touch(auth::redactAuthorization(*line));
        auto parsed = sip::parseAuthValues(*line);
        if (!parsed) continue;
        for (auto& v : *parsed) {
            auto challenge = auth::parseDigestChallenge(v);
            if (challenge && *challenge) touchChallenge(**challenge);
            values.push_back(std::move(v));
        }
    }

    auth::DigestCredentials withPassword;
    withPassword.username = "alice";
    withPassword.password = "fuzz-password";
    auth::DigestCredentials withHa1;
    withHa1.username = "alice";
    (void)withHa1.setHa1("MD5", "939e7578ed9e3c518a452acee763bce9");
    auth::DigestOptions pinned;
    pinned.realmPin = "example.com";
    auth::DigestOptions authInt;
    authInt.preferAuthInt = true;

    if (auto s = auth::selectChallenge(values, withPassword, {})) touchChallenge(s->challenge);
    if (auto s = auth::selectChallenge(values, withHa1, pinned)) touchChallenge(s->challenge);
    if (auto s = auth::selectChallenge(values, withPassword, authInt)) touchChallenge(s->challenge);

    runSession(values, false);
    runSession(values, true);
    return 0;
}
