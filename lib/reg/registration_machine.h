#pragma once
// One line's registration, sans-I/O: events in (with the current time), actions out.
//
//   stopped --Start--> registering --2xx--> registered --Refresh timer--> (refresh, still
//   registered) --2xx--> registered
//   401/407: answered with digest credentials within the same attempt; refreshes carry
//            credentials preemptively (nc incremented), so a refresh is one round trip.
//   423: Min-Expires adopted and retried at once (once per attempt).
//   timeout, transport error, 408, 5xx, 6xx, a second 423 --> waiting (backoff with jitter,
//            Retry-After honoured) --Retry timer--> registering
//   403, 404, rejected credentials, 3xx and other 4xx --> failed (failedRetry, or
//            Retry-After) --Retry timer--> registering. Redirects are not followed: a
//            registrar that moved is a configuration matter.
//   Expiry timer: the binding lapsed without a 2xx --> registering (a refresh is pending),
//            so status never claims "registered" for a lapsed binding.
//   Stop --> unregistering (Contact expires=0, Expires: 0) --any final/timeout--> stopped,
//            or straight to stopped when no binding can exist: nothing was sent since the
//            last confirmed lapse or removal (a timed-out REGISTER may have reached the
//            registrar, so it counts as a possible binding until its expiry would pass).
//
// Per line: the settings, a few precomputed header strings, and small fixed state. On the
// refresh path the only allocations are the request bytes (and the digest fields).
#include <array>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/digest_session.h"
#include "crypto/random_source.h"
#include "reg/line_counters.h"
#include "reg/line_settings.h"
#include "reg/nat_tracker.h"
#include "reg/reg_types.h"
#include "reg/state.h"
#include "util/result.h"

namespace sipreg::reg {

class RegistrationMachine {
public:
    // Validates the settings (AOR, registrar and contact URIs, local address, expiry).
    // `random` must outlive the machine: it supplies Call-ID, tags, branches, cnonces and
    // jitter. The credentials move into the digest session (settings().credentials is empty
    // afterwards, so the secret is held once).
    static Result<std::unique_ptr<RegistrationMachine>> create(LineSettings settings,
                                                               crypto::RandomSource& random);

    // Appends the resulting actions to `out` (which the caller clears and reuses).
    void on(const Event& event, TimePoint now, std::vector<Action>& out);

    // The flow the next requests go over: its transport and our address on it (Via sent-by,
    // Contact). On TCP/TLS that is the connection's own local address. When the Contact
    // changes while a binding may exist, the next REGISTER also removes the old Contact
    // (expires=0), so no binding is left pointing at a dead flow. Returns true when the
    // Contact changed.
    bool setFlowAddress(txn::TransportKind transport, std::string_view localHost, uint16_t localPort);

    State state() const noexcept { return state_; }
    const LineCounters& counters() const noexcept { return counters_; }
    const LineSettings& settings() const noexcept { return settings_; }

    // When the binding confirmed by the last 2xx lapses; nullopt when none is held.
    std::optional<TimePoint> bindingExpiresAt() const noexcept { return bindingUntil_; }
    Seconds lastGranted() const noexcept { return granted_; }
    // The expiry we ask for: the configured one, raised to a Min-Expires learned from a 423.
    Seconds requestedExpires() const noexcept;
    std::string_view contactUri() const noexcept { return contactUri_; }
    std::string_view callId() const noexcept { return callId_; }
    std::string_view requestUri() const noexcept { return requestUri_; }
    // Branch of the REGISTER in flight; empty when none.
    std::string_view pendingBranch() const noexcept;
    bool timerArmed(TimerKind k) const noexcept { return timers_[index(k)].has_value(); }
    std::optional<TimePoint> timerAt(TimerKind k) const noexcept { return timers_[index(k)]; }
    // Transient failures in a row (the backoff exponent); 0 after a success or a refusal.
    uint32_t consecutiveFailures() const noexcept { return failures_; }

    RegistrationMachine(const RegistrationMachine&) = delete;
    RegistrationMachine& operator=(const RegistrationMachine&) = delete;

private:
    static constexpr std::size_t kBranchLen = 23;  // "z9hG4bK" + 16 hex digits
    using Branch = std::array<char, kBranchLen>;
    static constexpr std::size_t index(TimerKind k) noexcept { return static_cast<std::size_t>(k); }

    RegistrationMachine(LineSettings settings, crypto::RandomSource& random,
                        auth::DigestCredentials credentials);

    void onStart(TimePoint now, std::vector<Action>& out);
    void onStop(TimePoint now, std::vector<Action>& out);
    void onRefresh(TimePoint now, std::vector<Action>& out);
    void onTimer(TimerKind k, TimePoint now, std::vector<Action>& out);
    void onResponse(const sip::Message& m, TimePoint now, std::vector<Action>& out);
    void onTransactionFailed(std::string_view branch, bool timeout, std::string_view detail,
                             TimePoint now, std::vector<Action>& out);
    void onFlowLost(std::string_view detail, TimePoint now, std::vector<Action>& out);
    void rebuildVia();

    void onRegisterSuccess(const sip::Message& m, TimePoint now, std::vector<Action>& out);
    void onChallenge(const sip::Message& m, TimePoint now, std::vector<Action>& out);
    void onUnregisterResult(int code, std::string_view detail, std::vector<Action>& out);
    void checkNat(const sip::Message& m, TimePoint now, std::vector<Action>& out);

    void sendRegister(RequestPurpose purpose, TimePoint now, std::vector<Action>& out);
    void sendOptionsKeepAlive(std::vector<Action>& out);
    void newBranch(Branch& b);
    void writeCommonHeaders(std::string& out, std::string_view method, std::string_view branch);

    void transientFailure(int code, std::string_view what, std::optional<Duration> retryAfter,
                          TimePoint now, std::vector<Action>& out);
    void refusal(int code, std::string_view what, std::optional<Duration> retryAfter,
                 TimePoint now, std::vector<Action>& out);
    void enterRetryState(State to, int code, std::string_view what, Duration delay, TimePoint now,
                         std::vector<Action>& out);
    void setState(State to, int code, std::string text, std::vector<Action>& out,
                  Seconds granted = Seconds{0}, Duration next = Duration{0});
    void stopTimersAndKeepAlive(std::vector<Action>& out);

    void arm(TimerKind k, TimePoint at, std::vector<Action>& out);
    void cancel(TimerKind k, std::vector<Action>& out);
    double unitRandom();
    void rebuildContact();

    LineSettings settings_;
    crypto::RandomSource& random_;
    auth::DigestSession auth_;

    // Fixed for the line's life.
    std::string requestUri_;
    std::string toValue_;    // ["display"] <aor>
    std::string fromValue_;  // toValue_ ;tag=...
    std::string callId_;
    std::string viaPrefix_;  // "SIP/2.0/UDP host:port;rport;branch="
    // The Contact in use, and one being removed after a NAT rewrite.
    std::string contactUri_;
    std::string staleContact_;
    std::optional<HostPort> publicAddress_;  // learned from the registrar (NAT)

    State state_ = State::Stopped;
    RequestPurpose pendingPurpose_ = RequestPurpose::Register;
    bool registerInFlight_ = false;
    bool keepAliveInFlight_ = false;
    bool retried423_ = false;          // within the current attempt
    uint32_t cseq_ = 0;
    uint32_t failures_ = 0;            // consecutive transient failures (backoff exponent)
    Seconds minExpires_{0};            // learned from 423
    Seconds granted_{0};
    Branch registerBranch_{};
    Branch keepAliveBranch_{};
    Branch cancelledBranch_{};  // backs CancelRequest views until the next call
    std::array<std::optional<TimePoint>, kTimerKinds> timers_{};
    std::optional<TimePoint> bindingUntil_;    // confirmed by a 2xx
    std::optional<TimePoint> mayBeBoundUntil_; // a binding might exist until then
    std::optional<TimePoint> mayBeBoundBeforeSend_;
    NatTracker nat_;
    LineCounters counters_;
};

}  // namespace sipreg::reg
