#pragma once
// Decides whether a request from outside a transaction (an OPTIONS probe, an INVITE, a
// stranger's flood) may be answered, before it costs a server transaction: by source
// (`requests.answer_from`) and by rate (`requests.max_rate`). A flood must never starve
// the refreshes, and an answer is traffic a spoofed source can aim at someone else.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "app/rate_limiter.h"
#include "config/model.h"
#include "txn/txn_types.h"
#include "util/clock.h"

namespace sipreg::app {

struct RequestCounters {
    uint64_t droppedStranger = 0;  // source is no line's first hop (answer_from: registrars)
    uint64_t droppedRate = 0;      // above requests.max_rate
    uint64_t droppedBusy = 0;      // strangers' share of the answered-request table is full
};

// Of the responder's kMaxServerTransactions, strangers may hold this many: a flood that fills
// its share still leaves the registrars' OPTIONS probes an answer.
inline constexpr std::size_t kStrangerTransactionShare = 8'000;

class RequestGate {
public:
    enum class Verdict { Pass, Stranger, RateLimited, Busy };

    // Produces the IPs of every line's first hops (only asked after markStale()).
    using AddressSource = std::function<void(std::vector<txn::Peer>& out)>;

    explicit RequestGate(AddressSource source);

    void configure(const config::RequestSettings& settings);
    // Some line's first hops changed: the address set is rebuilt at the next request that needs it.
    void markStale() noexcept { stale_ = true; }

    // A first hop (a line's registrar or proxy, or anything on a connection we opened) always
    // passes: pacing is for strangers. Strangers pass only with answer_from: any, and then
    // within requests.max_rate and their share of the table (`answeredInFlight` requests are
    // remembered now). ACKs are never answered, so they cost no token.
    Verdict admit(const txn::Peer& from, bool isAck, std::size_t answeredInFlight, TimePoint now);

    const RequestCounters& counters() const noexcept { return counters_; }

private:
    using Address = std::array<uint8_t, 17>;  // 16 address bytes + family
    static Address keyOf(const txn::Peer& p) noexcept;
    bool known(const txn::Peer& from);

    AddressSource source_;
    config::RequestSettings settings_;
    RateLimiter limiter_;
    std::vector<Address> known_;  // sorted
    bool stale_ = true;
    RequestCounters counters_;
};

}  // namespace sipreg::app
