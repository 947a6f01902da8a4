#pragma once
// Drives one RegistrationMachine like the engine would, on a manual clock: keeps its armed
// timers, records the requests it sent and its state changes, and answers its requests
// with responses built from text.
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "crypto/random_source.h"
#include "reg/registration_machine.h"
#include "support/sip_builders.h"

namespace sipreg::test {

inline reg::LineSettings basicLine() {
    reg::LineSettings s;
    s.aor = "sip:alice@example.com";
    s.displayName = "Alice";
    s.localHost = "192.0.2.10";
    s.localPort = 5060;
    s.userAgent = "sipregd-test";
    s.expires = reg::Seconds{600};
    s.credentials.password = "secret";
    return s;
}

struct SentRequest {
    std::string bytes;
    std::string branch;
    reg::RequestPurpose purpose;
    TimePoint at;
};

class RegHarness {
public:
    explicit RegHarness(reg::LineSettings settings = basicLine(), uint64_t seed = 7)
        : random_(seed) {
        auto m = reg::RegistrationMachine::create(std::move(settings), random_);
        if (!m) throw std::runtime_error(m.error().message);
        machine = std::move(m).value();
    }

    void send(const reg::Event& e) {
        out_.clear();
        machine->on(e, clock.now(), out_);
        apply();
    }
    void start() { send(reg::Event::start()); }

    // Answers the last REGISTER (or the given request) with a response built from spec.
    void respond(const ResponseSpec& spec) { respondTo(lastRegister(), spec); }
    void respondTo(const SentRequest& req, const ResponseSpec& spec) {
        auto m = response(req.bytes, spec);
        send(reg::Event::responseReceived(m));
    }
    void timeoutLast(std::string_view peer = {}) { send(reg::Event::transactionTimeout(lastRegister().branch, peer)); }

    // Advances the clock to `t`, firing due timers in order (bounded).
    void advanceTo(TimePoint t) {
        for (int guard = 0; guard < 1000; ++guard) {
            std::optional<std::pair<reg::TimerKind, TimePoint>> next;
            for (const auto& [k, at] : timers)
                if (at <= t && (!next || at < next->second)) next = {k, at};
            if (!next) break;
            timers.erase(next->first);
            clock.set(next->second);
            send(reg::Event::timerFired(next->first));
        }
        clock.set(t);
    }
    void advance(Duration d) { advanceTo(clock.now() + d); }
    std::optional<TimePoint> timer(reg::TimerKind k) const {
        auto it = timers.find(k);
        if (it == timers.end()) return std::nullopt;
        return it->second;
    }

    const SentRequest& lastRegister() const {
        for (auto it = sent.rbegin(); it != sent.rend(); ++it)
            if (it->purpose != reg::RequestPurpose::KeepAlive) return *it;
        throw std::runtime_error("no REGISTER sent");
    }
    sip::Message lastRegisterMessage() const { return parseSip(lastRegister().bytes); }
    std::size_t registersSent() const {
        std::size_t n = 0;
        for (const auto& s : sent) n += s.purpose != reg::RequestPurpose::KeepAlive;
        return n;
    }
    reg::State state() const { return machine->state(); }

    ManualClock clock;
    std::unique_ptr<reg::RegistrationMachine> machine;
    std::vector<SentRequest> sent;
    std::vector<reg::Action> changes;        // StateChanged and Refreshed, in order
    std::vector<std::string> cancelled;      // CancelRequest branches
    std::vector<std::string> keepAlives;     // SendKeepAlive bytes
    std::map<reg::TimerKind, TimePoint> timers;

private:
    void apply() {
        for (auto& a : out_) {
            switch (a.kind) {
                case reg::Action::Kind::SendRequest:
                    sent.push_back({a.bytes, std::string(a.branch), a.purpose, clock.now()});
                    break;
                case reg::Action::Kind::CancelRequest: cancelled.emplace_back(a.branch); break;
                case reg::Action::Kind::SendKeepAlive: keepAlives.push_back(a.bytes); break;
                case reg::Action::Kind::ArmTimer: timers[a.timer] = a.at; break;
                case reg::Action::Kind::CancelTimer: timers.erase(a.timer); break;
                case reg::Action::Kind::StateChanged:
                case reg::Action::Kind::Refreshed: changes.push_back(a); break;
            }
        }
    }

    crypto::DeterministicRandomSource random_;
    std::vector<reg::Action> out_;
};

}  // namespace sipreg::test
