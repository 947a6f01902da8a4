#pragma once
// Decides whether a request from outside a transaction (an OPTIONS probe, an INVITE, a
// stranger's flood) may be answered, before it costs a server transaction: by source
// (`requests.answer_from`) and by rate (`requests.max_rate`). A flood must never starve
// the refreshes, and an answer is traffic a spoofed source can aim at someone else.
#include <algorithm>
#include <array>
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
};

class RequestGate {
public:
    enum class Verdict { Pass, Stranger, RateLimited };

    // Produces the IPs of every line's first hops (only asked after markStale()).
    using AddressSource = std::function<void(std::vector<txn::Peer>& out)>;

    explicit RequestGate(AddressSource source);

    void configure(const config::RequestSettings& settings);
    // Some line's first hops changed: the address set is rebuilt at the next request that needs it.
    void markStale() noexcept { stale_ = true; }

    // ACKs only pass the source check: they are never answered, so they cost no token.
    Verdict admit(const txn::Peer& from, bool isAck, TimePoint now);

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
