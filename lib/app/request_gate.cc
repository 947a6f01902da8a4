#include "app/request_gate.h"

#include <algorithm>

namespace sipreg::app {

namespace {

// A tenth of a second of answers may go out at once; the rest are paced.
uint32_t burstFor(int rate) { return static_cast<uint32_t>(std::max(1, rate / 10)); }

}  // namespace

RequestGate::RequestGate(AddressSource source)
    : source_(std::move(source)),
      limiter_(static_cast<uint32_t>(settings_.maxRate), burstFor(settings_.maxRate)) {}

void RequestGate::configure(const config::RequestSettings& settings) {
    settings_ = settings;
    limiter_.setRate(static_cast<uint32_t>(std::max(1, settings.maxRate)), burstFor(settings.maxRate));
    stale_ = true;
}

RequestGate::Address RequestGate::keyOf(const txn::Peer& p) noexcept {
    Address a{};
    std::copy(p.address.begin(), p.address.end(), a.begin());
    a[16] = p.ipv6 ? 6 : 4;
    return a;
}

bool RequestGate::known(const txn::Peer& from) {
    if (stale_) {
        std::vector<txn::Peer> peers;
        source_(peers);
        known_.clear();
        known_.reserve(peers.size());
        for (const txn::Peer& p : peers) known_.push_back(keyOf(p));
        std::sort(known_.begin(), known_.end());
        known_.erase(std::unique(known_.begin(), known_.end()), known_.end());
        stale_ = false;
    }
    return std::binary_search(known_.begin(), known_.end(), keyOf(from));
}

RequestGate::Verdict RequestGate::admit(const txn::Peer& from, bool isAck, std::size_t answeredInFlight,
                                        TimePoint now) {
    // A connection is one we opened to a first hop: whatever comes over it is from there.
    if (from.flow != 0 || known(from)) return Verdict::Pass;
    if (settings_.answerFrom == config::AnswerFrom::Registrars) {
        ++counters_.droppedStranger;
        return Verdict::Stranger;
    }
    if (isAck) return Verdict::Pass;
    if (answeredInFlight >= kStrangerTransactionShare) {
        ++counters_.droppedBusy;
        return Verdict::Busy;
    }
    if (!limiter_.tryTake(now)) {
        ++counters_.droppedRate;
        return Verdict::RateLimited;
    }
    return Verdict::Pass;
}

}  // namespace sipreg::app
