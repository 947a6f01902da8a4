#include "reg/registration_machine.h"

#include <algorithm>
#include <charconv>
#include <utility>

#include "reg/contact_match.h"
#include "sip/typed_headers.h"
#include "sip/uri.h"
#include "txn/server_responder.h"

namespace sipreg::reg {
namespace {

constexpr std::string_view kMagicCookie = "z9hG4bK";
constexpr std::string_view kKeepAlivePing = "\r\n\r\n";

void appendNumber(std::string& out, uint64_t v) {
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, r.ptr);
}

void appendHeader(std::string& out, std::string_view name, std::string_view value) {
    out.append(name).append(": ").append(value).append("\r\n");
}

std::string bracketed(std::string_view host) {
    if (host.find(':') == std::string_view::npos) return std::string(host);
    // Appended rather than concatenated: "[" + std::string + "]" trips a GCC 12 -O3
    // -Wrestrict false positive.
    std::string out;
    out.reserve(host.size() + 2);
    out += '[';
    out.append(host);
    out += ']';
    return out;
}

std::string quotedDisplayName(std::string_view name) {
    std::string q = "\"";
    for (char c : name) {
        if (c == '"' || c == '\\') q.push_back('\\');
        if (c == '\r' || c == '\n') continue;  // cannot be carried; never split a header
        q.push_back(c);
    }
    q.push_back('"');
    return q;
}

std::string statusText(int code, std::string_view reason) {
    std::string t = std::to_string(code);
    if (!reason.empty()) t.append(" ").append(reason);
    return t;
}

std::optional<Duration> retryAfterOf(const sip::Message& m) {
    auto ra = sip::retryAfter(m);
    if (!ra || !ra.value()) return std::nullopt;
    const Seconds s = std::min<Seconds>(Seconds{ra.value()->seconds}, kMaxRetryAfter);
    return Duration{std::max<Seconds>(s, Seconds{1})};
}

}  // namespace

std::string_view timerName(TimerKind k) noexcept {
    switch (k) {
        case TimerKind::Refresh: return "refresh";
        case TimerKind::Retry: return "retry";
        case TimerKind::Expiry: return "expiry";
        case TimerKind::KeepAlive: return "keepalive";
    }
    return "?";
}

std::string formatDelay(Duration d) {
    const auto ms = std::max<int64_t>(0, d.count());
    const int64_t s = (ms + 500) / 1000;
    if (s < 120) return std::to_string(s) + " s";
    if (s < 120 * 60) return std::to_string((s + 30) / 60) + " m";
    return std::to_string((s + 1800) / 3600) + " h";
}

std::string describe(const Action& a) {
    if (a.kind != Action::Kind::Refreshed) return a.text;
    return "registered, expires " + std::to_string(a.granted.count()) + " s, refresh in " +
           formatDelay(a.next);
}

Result<std::unique_ptr<RegistrationMachine>> RegistrationMachine::create(
    LineSettings settings, crypto::RandomSource& random) {
    auto aor = sip::parseUri(settings.aor);
    if (!aor || !aor->isSip() || aor->host.empty())
        return makeError("aor: not a sip/sips URI: '" + settings.aor + "'");
    if (!settings.registrar.empty()) {
        auto r = sip::parseUri(settings.registrar);
        if (!r || !r->isSip() || r->host.empty())
            return makeError("registrar: not a sip/sips URI: '" + settings.registrar + "'");
    }
    if (!settings.contact.empty()) {
        auto c = sip::parseUri(settings.contact);
        if (!c || !c->isSip()) return makeError("contact: not a sip/sips URI: '" + settings.contact + "'");
    }
    if (settings.localHost.empty()) return makeError("local address unknown: localHost is empty");
    if (settings.expires.count() <= 0) return makeError("expires must be positive");
    if (settings.displayName.find_first_of("\r\n") != std::string::npos)
        return makeError("display name contains a line break");

    auth::DigestCredentials credentials = std::move(settings.credentials);
    settings.credentials = {};
    if (credentials.username.empty()) {
        auto user = sip::percentDecode(aor->user);
        credentials.username = user ? *user : std::string(aor->user);
    }
    return std::unique_ptr<RegistrationMachine>(
        new RegistrationMachine(std::move(settings), random, std::move(credentials)));
}

RegistrationMachine::RegistrationMachine(LineSettings settings, crypto::RandomSource& random,
                                         auth::DigestCredentials credentials)
    : settings_(std::move(settings)), random_(random),
      auth_(std::move(credentials), random, settings_.digest) {
    const auto aor = sip::parseUri(settings_.aor).value();  // validated by create()
    const auto registrar = settings_.registrar.empty() ? aor : sip::parseUri(settings_.registrar).value();
    requestUri_ = std::string(registrar.scheme) + ":" + registrar.hostPort();

    toValue_ = settings_.displayName.empty() ? std::string()
                                             : quotedDisplayName(settings_.displayName) + " ";
    toValue_.append("<").append(settings_.aor).append(">");

    std::array<uint8_t, 16> bytes{};
    static constexpr char kHex[] = "0123456789abcdef";
    auto hex = [&](std::size_t n) {
        random_.fill(std::span<uint8_t>(bytes.data(), n));
        std::string s;
        for (std::size_t i = 0; i < n; ++i) {
            s.push_back(kHex[bytes[i] >> 4]);
            s.push_back(kHex[bytes[i] & 0xF]);
        }
        return s;
    };
    fromValue_ = toValue_ + ";tag=" + hex(8);
    callId_ = hex(16);

    rebuildVia();
    rebuildContact();
}

void RegistrationMachine::rebuildVia() {
    viaPrefix_ = "SIP/2.0/";
    viaPrefix_.append(txn::transportName(settings_.transport));
    viaPrefix_.append(" ").append(bracketed(settings_.localHost)).append(":");
    appendNumber(viaPrefix_, settings_.localPort);
    viaPrefix_.append(";rport;branch=");
}

bool RegistrationMachine::setFlowAddress(txn::TransportKind transport, std::string_view localHost,
                                         uint16_t localPort) {
    if (transport == settings_.transport && localHost == settings_.localHost && localPort == settings_.localPort)
        return false;
    settings_.transport = transport;
    settings_.localHost.assign(localHost);
    settings_.localPort = localPort;
    rebuildVia();
    // A public address learned through the old flow says nothing about the new one.
    publicAddress_.reset();
    nat_ = NatTracker{};
    const std::string before = contactUri_;
    rebuildContact();
    if (contactUri_ == before) return false;
    if (bindingUntil_ || mayBeBoundUntil_) staleContact_ = before;
    return true;
}

void RegistrationMachine::rebuildContact() {
    if (!settings_.contact.empty()) {
        contactUri_ = settings_.contact;
        return;
    }
    const auto aor = sip::parseUri(settings_.aor).value();
    const bool sips = aor.isSips();
    contactUri_ = sips ? "sips:" : "sip:";
    const std::string_view user = settings_.contactUser.empty() ? aor.user : settings_.contactUser;
    if (!user.empty()) contactUri_.append(user).append("@");
    const std::string_view host = publicAddress_ ? publicAddress_->host : settings_.localHost;
    const uint16_t port = publicAddress_ ? publicAddress_->port : settings_.localPort;
    contactUri_.append(bracketed(host)).append(":");
    appendNumber(contactUri_, port);
    if (settings_.transport == txn::TransportKind::Tcp) contactUri_.append(";transport=tcp");
    if (settings_.transport == txn::TransportKind::Tls && !sips) contactUri_.append(";transport=tls");
}

Seconds RegistrationMachine::requestedExpires() const noexcept {
    return std::max(settings_.expires, minExpires_);
}

std::string_view RegistrationMachine::pendingBranch() const noexcept {
    if (!registerInFlight_) return {};
    return {registerBranch_.data(), registerBranch_.size()};
}

double RegistrationMachine::unitRandom() {
    std::array<uint8_t, 8> b{};
    random_.fill(b);
    uint64_t v = 0;
    for (uint8_t x : b) v = (v << 8) | x;
    return static_cast<double>(v >> 11) * (1.0 / 9007199254740992.0);  // 53 bits -> [0, 1)
}

void RegistrationMachine::newBranch(Branch& b) {
    std::array<uint8_t, 8> bytes{};
    random_.fill(bytes);
    static constexpr char kHex[] = "0123456789abcdef";
    std::copy(kMagicCookie.begin(), kMagicCookie.end(), b.begin());
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        b[kMagicCookie.size() + 2 * i] = kHex[bytes[i] >> 4];
        b[kMagicCookie.size() + 2 * i + 1] = kHex[bytes[i] & 0xF];
    }
}

void RegistrationMachine::arm(TimerKind k, TimePoint at, std::vector<Action>& out) {
    timers_[index(k)] = at;
    Action a;
    a.kind = Action::Kind::ArmTimer;
    a.timer = k;
    a.at = at;
    out.push_back(std::move(a));
}

void RegistrationMachine::cancel(TimerKind k, std::vector<Action>& out) {
    if (!timers_[index(k)]) return;
    timers_[index(k)].reset();
    Action a;
    a.kind = Action::Kind::CancelTimer;
    a.timer = k;
    out.push_back(std::move(a));
}

void RegistrationMachine::setState(State to, int code, std::string text, std::vector<Action>& out,
                                   Seconds granted, Duration next) {
    Action a;
    a.kind = Action::Kind::StateChanged;
    a.from = state_;
    a.to = to;
    a.statusCode = code;
    a.granted = granted;
    a.next = next;
    a.text = std::move(text);
    state_ = to;
    out.push_back(std::move(a));
}

void RegistrationMachine::writeCommonHeaders(std::string& out, std::string_view method,
                                             std::string_view branch) {
    out.append(method).append(" ").append(requestUri_).append(" SIP/2.0\r\n");
    out.append("Via: ").append(viaPrefix_).append(branch).append("\r\n");
    if (!settings_.route.empty()) appendHeader(out, "Route", settings_.route);
    appendHeader(out, "Max-Forwards", "70");
    appendHeader(out, "From", fromValue_);
    appendHeader(out, "To", toValue_);
    appendHeader(out, "Call-ID", callId_);
    out.append("CSeq: ");
    appendNumber(out, ++cseq_);
    out.append(" ").append(method).append("\r\n");
}

void RegistrationMachine::sendRegister(RequestPurpose purpose, TimePoint now,
                                       std::vector<Action>& out) {
    if (registerInFlight_) {
        // Superseded: its retransmissions must stop and its late answers mean nothing.
        cancelledBranch_ = registerBranch_;
        Action c;
        c.kind = Action::Kind::CancelRequest;
        c.branch = {cancelledBranch_.data(), cancelledBranch_.size()};
        out.push_back(std::move(c));
    }
    const bool unregister = purpose == RequestPurpose::Unregister;
    const Seconds expires = unregister ? Seconds{0} : requestedExpires();

    std::string bytes;
    bytes.reserve(640 + (auth_.hasKeptChallenge() ? 320 : 0));
    Branch branch{};
    newBranch(branch);
    const std::string_view branchView{branch.data(), branch.size()};
    writeCommonHeaders(bytes, "REGISTER", branchView);
    bytes.append("Contact: <").append(contactUri_).append(">;expires=");
    appendNumber(bytes, static_cast<uint64_t>(expires.count()));
    bytes.append("\r\n");
    if (!staleContact_.empty())
        bytes.append("Contact: <").append(staleContact_).append(">;expires=0\r\n");
    bytes.append("Expires: ");
    appendNumber(bytes, static_cast<uint64_t>(expires.count()));
    bytes.append("\r\n");
    if (auth_.hasKeptChallenge()) {
        auto fields = auth_.authorize("REGISTER", requestUri_);
        if (fields) {
            for (const auto& f : *fields)
                appendHeader(bytes, sip::canonicalHeaderName(f.header), f.value);
        }
        // Without fields the request goes out bare and the registrar challenges again.
    }
    appendHeader(bytes, "Allow", txn::kAllowedMethods);
    appendHeader(bytes, "Supported", txn::kSupportedOptions);
    appendHeader(bytes, "User-Agent", settings_.userAgent);
    bytes.append("Content-Length: 0\r\n\r\n");

    registerBranch_ = branch;
    registerInFlight_ = true;
    pendingPurpose_ = purpose;
    ++counters_.registerSent;
    if (!unregister) {
        mayBeBoundBeforeSend_ = mayBeBoundUntil_;
        const TimePoint until = now + expires;
        if (!mayBeBoundUntil_ || *mayBeBoundUntil_ < until) mayBeBoundUntil_ = until;
    }

    Action a;
    a.kind = Action::Kind::SendRequest;
    a.purpose = purpose;
    a.bytes = std::move(bytes);
    a.branch = {registerBranch_.data(), registerBranch_.size()};
    a.method = "REGISTER";
    out.push_back(std::move(a));
}

void RegistrationMachine::sendOptionsKeepAlive(std::vector<Action>& out) {
    if (keepAliveInFlight_) return;  // the last probe is still running: no pile-up
    newBranch(keepAliveBranch_);
    const std::string_view branch{keepAliveBranch_.data(), keepAliveBranch_.size()};
    std::string bytes;
    bytes.reserve(512);
    writeCommonHeaders(bytes, "OPTIONS", branch);
    appendHeader(bytes, "User-Agent", settings_.userAgent);
    bytes.append("Content-Length: 0\r\n\r\n");
    keepAliveInFlight_ = true;
    Action a;
    a.kind = Action::Kind::SendRequest;
    a.purpose = RequestPurpose::KeepAlive;
    a.bytes = std::move(bytes);
    a.branch = branch;
    a.method = "OPTIONS";
    out.push_back(std::move(a));
}

void RegistrationMachine::on(const Event& event, TimePoint now, std::vector<Action>& out) {
    switch (event.kind) {
        case Event::Kind::Start: onStart(now, out); return;
        case Event::Kind::Stop: onStop(now, out); return;
        case Event::Kind::Refresh: onRefresh(now, out); return;
        case Event::Kind::TimerFired: onTimer(event.timer, now, out); return;
        case Event::Kind::ResponseReceived:
            if (event.response != nullptr) onResponse(*event.response, now, out);
            return;
        case Event::Kind::TransactionTimeout: onTransactionFailed(event.branch, true, event.detail, now, out); return;
        case Event::Kind::TransportError:
            onTransactionFailed(event.branch, false, event.detail, now, out);
            return;
        case Event::Kind::FlowLost: onFlowLost(event.detail, now, out); return;
    }
}

void RegistrationMachine::onStart(TimePoint now, std::vector<Action>& out) {
    if (state_ != State::Stopped) return;
    retried423_ = false;
    setState(State::Registering, 0, "registering", out);
    sendRegister(RequestPurpose::Register, now, out);
}

void RegistrationMachine::onRefresh(TimePoint now, std::vector<Action>& out) {
    if (state_ == State::Stopped || state_ == State::Unregistering || registerInFlight_) return;
    cancel(TimerKind::Retry, out);
    cancel(TimerKind::Refresh, out);
    retried423_ = false;
    if (state_ != State::Registered) setState(State::Registering, 0, "registering (requested)", out);
    sendRegister(RequestPurpose::Register, now, out);
}

void RegistrationMachine::stopTimersAndKeepAlive(std::vector<Action>& out) {
    for (std::size_t k = 0; k < kTimerKinds; ++k) cancel(static_cast<TimerKind>(k), out);
    if (keepAliveInFlight_) {
        keepAliveInFlight_ = false;
        Action c;
        c.kind = Action::Kind::CancelRequest;
        c.branch = {keepAliveBranch_.data(), keepAliveBranch_.size()};
        out.push_back(std::move(c));
    }
}

void RegistrationMachine::onStop(TimePoint now, std::vector<Action>& out) {
    if (state_ == State::Stopped || state_ == State::Unregistering) return;
    stopTimersAndKeepAlive(out);
    const bool mayBeBound = registerInFlight_ || (mayBeBoundUntil_ && *mayBeBoundUntil_ > now);
    if (!mayBeBound) {
        setState(State::Stopped, 0, "stopped, nothing registered", out);
        return;
    }
    setState(State::Unregistering, 0, "unregistering", out);
    sendRegister(RequestPurpose::Unregister, now, out);
}

void RegistrationMachine::onTimer(TimerKind k, TimePoint now, std::vector<Action>& out) {
    auto& slot = timers_[index(k)];
    if (!slot || *slot > now) return;  // cancelled or re-armed meanwhile: a stale firing
    slot.reset();
    switch (k) {
        case TimerKind::Refresh:
            if (state_ != State::Registered || registerInFlight_) return;
            retried423_ = false;
            sendRegister(RequestPurpose::Register, now, out);
            return;
        case TimerKind::Retry:
            if (state_ != State::Waiting && state_ != State::Failed) return;
            retried423_ = false;
            setState(State::Registering, 0, "registering (retry)", out);
            sendRegister(RequestPurpose::Register, now, out);
            return;
        case TimerKind::Expiry:
            bindingUntil_.reset();
            ++counters_.lapses;
            if (state_ != State::Registered) return;  // already reported as not registered
            cancel(TimerKind::KeepAlive, out);
            setState(State::Registering, 0,
                     registerInFlight_ ? "binding lapsed, refresh still pending"
                                       : "binding lapsed, registering",
                     out);
            if (!registerInFlight_) sendRegister(RequestPurpose::Register, now, out);
            return;
        case TimerKind::KeepAlive:
            if (state_ != State::Registered || settings_.keepalive.count() <= 0) return;
            ++counters_.keepalivesSent;
            if (settings_.keepaliveMode == KeepAliveMode::Crlf) {
                Action a;
                a.kind = Action::Kind::SendKeepAlive;
                a.bytes = kKeepAlivePing;
                out.push_back(std::move(a));
            } else {
                sendOptionsKeepAlive(out);
            }
            arm(TimerKind::KeepAlive, now + settings_.keepalive, out);
            return;
    }
}

void RegistrationMachine::onFlowLost(std::string_view detail, TimePoint now, std::vector<Action>& out) {
    // In flight or waiting, the transaction's own failure or the retry timer moves on.
    if (state_ != State::Registered || registerInFlight_) return;
    cancel(TimerKind::Refresh, out);
    cancel(TimerKind::KeepAlive, out);
    retried423_ = false;
    std::string text = "connection lost";
    if (!detail.empty()) text.append(" (").append(detail).append(")");
    text.append(", registering");
    setState(State::Registering, 0, std::move(text), out);
    sendRegister(RequestPurpose::Register, now, out);
}

void RegistrationMachine::onTransactionFailed(std::string_view branch, bool timeout, std::string_view detail,
                                              TimePoint now, std::vector<Action>& out) {
    if (keepAliveInFlight_ && branch == std::string_view(keepAliveBranch_.data(), keepAliveBranch_.size())) {
        keepAliveInFlight_ = false;  // the pinhole may be gone; the next REGISTER will tell
        return;
    }
    if (!registerInFlight_ || branch != pendingBranch()) return;
    registerInFlight_ = false;
    counters_.lastStatus = 0;
    if (timeout) ++counters_.timeouts;
    else ++counters_.transportErrors;
    std::string what = timeout ? "no response" : "transport error";
    if (!detail.empty()) what.append(timeout ? " from " : ": ").append(detail);
    if (pendingPurpose_ == RequestPurpose::Unregister) {
        onUnregisterResult(0, what, out);
        return;
    }
    transientFailure(0, what, std::nullopt, now, out);
}

void RegistrationMachine::onResponse(const sip::Message& m, TimePoint now, std::vector<Action>& out) {
    auto viaList = sip::vias(m);
    if (!m.isResponse() || !viaList || viaList->empty()) {
        ++counters_.ignoredResponses;
        return;
    }
    const std::string_view branch = viaList->front().branch();
    if (keepAliveInFlight_ && branch == std::string_view(keepAliveBranch_.data(), keepAliveBranch_.size())) {
        if (m.statusCode() >= 200) keepAliveInFlight_ = false;  // any answer proves the path
        return;
    }
    if (!registerInFlight_ || branch != pendingBranch()) {
        ++counters_.ignoredResponses;
        return;
    }
    const int code = m.statusCode();
    if (code < 200) return;
    registerInFlight_ = false;
    counters_.lastStatus = static_cast<uint16_t>(code);
    // A final refusal proves this REGISTER created nothing.
    if (code >= 300 && pendingPurpose_ == RequestPurpose::Register) mayBeBoundUntil_ = mayBeBoundBeforeSend_;

    if (code == 401 || code == 407) {
        onChallenge(m, now, out);
        return;
    }
    if (auth_.hasKeptChallenge()) auth_.onAuthenticated();

    if (pendingPurpose_ == RequestPurpose::Unregister) {
        onUnregisterResult(code, statusText(code, m.reason()), out);
        return;
    }
    if (code < 300) {
        onRegisterSuccess(m, now, out);
        return;
    }
    if (code == 423) {
        ++counters_.intervalTooBrief;
        auto me = sip::minExpires(m);
        const Seconds asked = requestedExpires();
        if (!retried423_ && me && me.value() && Seconds{*me.value()} > asked) {
            retried423_ = true;
            minExpires_ = Seconds{*me.value()};
            sendRegister(RequestPurpose::Register, now, out);
            return;
        }
        transientFailure(code, statusText(code, m.reason()), std::nullopt, now, out);
        return;
    }
    if (code == 408 || code >= 500) {
        transientFailure(code, statusText(code, m.reason()),
                         code == 408 ? std::nullopt : retryAfterOf(m), now, out);
        return;
    }
    refusal(code, statusText(code, m.reason()), retryAfterOf(m), now, out);
}

void RegistrationMachine::onChallenge(const sip::Message& m, TimePoint now, std::vector<Action>& out) {
    ++counters_.challenged;
    const int code = m.statusCode();
    auto outcome = auth_.onChallenge(m);
    std::string what = statusText(code, m.reason());
    bool retry = false;
    if (!outcome) {
        what.append(" (cannot answer: ").append(outcome.error().message).append(")");
    } else {
        if (outcome->verdict == auth::ChallengeVerdict::StaleNonce) ++counters_.staleNonces;
        if (outcome->verdict == auth::ChallengeVerdict::KeptNonceRefused) ++counters_.preemptiveRejected;
        retry = outcome->retry;
        if (!retry) what.append(" (credentials rejected)");
    }
    if (retry) {
        sendRegister(pendingPurpose_, now, out);  // same attempt, same purpose
        return;
    }
    ++counters_.authRejected;
    auth_.forget();  // the next attempt starts from a fresh challenge
    if (pendingPurpose_ == RequestPurpose::Unregister) {
        onUnregisterResult(code, what, out);
        return;
    }
    ++counters_.refused;
    failures_ = 0;
    enterRetryState(State::Failed, code, what, spreadDelay(settings_.failedRetry, unitRandom()), now, out);
}

void RegistrationMachine::onRegisterSuccess(const sip::Message& m, TimePoint now, std::vector<Action>& out) {
    // Our binding's expires, else the Expires header, else what we asked for.
    std::optional<uint32_t> grantedSecs;
    if (auto list = sip::contacts(m); list && !list->empty()) {
        if (auto ours = sip::parseUri(contactUri_)) grantedSecs = ourContactExpires(*list, *ours);
    }
    if (!grantedSecs) {
        if (auto e = sip::expires(m); e && e.value()) grantedSecs = *e.value();
    }
    const Seconds granted = grantedSecs ? Seconds{*grantedSecs} : requestedExpires();
    if (granted.count() == 0) {
        transientFailure(m.statusCode(), statusText(m.statusCode(), m.reason()) + " granting 0 s",
                         std::nullopt, now, out);
        return;
    }
    failures_ = 0;
    retried423_ = false;
    staleContact_.clear();
    granted_ = granted;
    bindingUntil_ = now + granted;
    mayBeBoundUntil_ = bindingUntil_;
    ++counters_.registered;

    cancel(TimerKind::Retry, out);
    arm(TimerKind::Expiry, *bindingUntil_, out);
    const Duration refreshIn = refreshDelay(granted, unitRandom());
    arm(TimerKind::Refresh, now + refreshIn, out);
    if (settings_.keepalive.count() > 0 && !timers_[index(TimerKind::KeepAlive)])
        arm(TimerKind::KeepAlive, now + settings_.keepalive, out);

    if (state_ == State::Registered) {
        ++counters_.refreshed;
        Action a;
        a.kind = Action::Kind::Refreshed;
        a.statusCode = m.statusCode();
        a.granted = granted;
        a.next = refreshIn;
        out.push_back(std::move(a));
    } else {
        setState(State::Registered, m.statusCode(),
                 "registered, expires " + std::to_string(granted.count()) + " s, refresh in " +
                     formatDelay(refreshIn),
                 out, granted, refreshIn);
    }
    checkNat(m, now, out);
}

void RegistrationMachine::checkNat(const sip::Message& m, TimePoint now, std::vector<Action>& out) {
    if (!settings_.contact.empty() || settings_.natRewritesPerHour == 0) return;
    auto viaList = sip::vias(m);
    if (!viaList || viaList->empty()) return;
    const sip::Via& top = viaList->front();
    const auto received = top.received();
    const auto rport = top.rport();
    if (!received && !rport) return;  // the registrar told us nothing
    HostPort seen;
    seen.host = received ? std::string(*received) : std::string(top.host);
    seen.port = rport ? *rport : top.port.value_or(settings_.localPort);
    HostPort contact;
    contact.host = publicAddress_ ? publicAddress_->host : settings_.localHost;
    contact.port = publicAddress_ ? publicAddress_->port : settings_.localPort;
    auto rewrite = nat_.observe(seen, contact, now, settings_.natRewritesPerHour);
    if (!rewrite) return;
    ++counters_.natRewrites;
    staleContact_ = contactUri_;
    publicAddress_ = std::move(*rewrite);
    rebuildContact();
    cancel(TimerKind::Refresh, out);
    retried423_ = false;
    sendRegister(RequestPurpose::Register, now, out);
}

void RegistrationMachine::onUnregisterResult(int code, std::string_view detail,
                                             std::vector<Action>& out) {
    std::string text;
    if (code >= 200 && code < 300) {
        ++counters_.unregistered;
        text = "unregistered";
    } else {
        text = "unregister failed: ";
        text.append(detail).append("; the binding lapses by itself");
    }
    bindingUntil_.reset();
    mayBeBoundUntil_.reset();
    staleContact_.clear();
    setState(State::Stopped, code, std::move(text), out);
}

void RegistrationMachine::transientFailure(int code, std::string_view what,
                                           std::optional<Duration> retryAfter, TimePoint now,
                                           std::vector<Action>& out) {
    if (code != 0) ++counters_.serverFailures;  // timeouts and transport errors have their own counters
    Duration delay = retryAfter ? spreadDelay(*retryAfter, unitRandom())
                                : backoffDelay(settings_.backoff, failures_, unitRandom());
    // A failed refresh while the binding still holds: try again within the time it has left,
    // or one lost exchange (a 30 % loss path does that now and then) lapses the binding.
    if (!retryAfter && bindingUntil_ && *bindingUntil_ > now) {
        delay = std::min(delay, retryWhileBound(*bindingUntil_ - now, unitRandom()));
    }
    ++failures_;
    enterRetryState(State::Waiting, code, what, delay, now, out);
}

void RegistrationMachine::refusal(int code, std::string_view what, std::optional<Duration> retryAfter,
                                  TimePoint now, std::vector<Action>& out) {
    ++counters_.refused;
    failures_ = 0;
    auth_.forget();
    const Duration delay = spreadDelay(retryAfter.value_or(settings_.failedRetry), unitRandom());
    enterRetryState(State::Failed, code, what, delay, now, out);
}

void RegistrationMachine::enterRetryState(State to, int code, std::string_view what, Duration delay,
                                          TimePoint now, std::vector<Action>& out) {
    cancel(TimerKind::Refresh, out);
    cancel(TimerKind::KeepAlive, out);
    // A binding confirmed earlier may still be alive: keep its Expiry so the lapse is counted.
    arm(TimerKind::Retry, now + delay, out);
    std::string text(what);
    text.append(", retry in ").append(formatDelay(delay));
    setState(to, code, std::move(text), out, Seconds{0}, delay);
}

}  // namespace sipreg::reg
