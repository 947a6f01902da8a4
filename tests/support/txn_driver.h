#pragma once
// Plays the engine's part for transaction-layer tests: records what was sent and keeps the
// armed timers, firing them in deadline order on a manual clock.
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "txn/txn_types.h"

namespace sipreg::test {

struct SentBytes {
    std::string bytes;
    txn::Peer peer;
    bool retransmission = false;
    TimePoint at;
};

class TxnDriver {
public:
    using Key = std::pair<txn::TxnId, txn::TimerKind>;

    // Applies a batch of actions; returns the deliveries (timeouts, transport errors).
    std::vector<txn::TxnAction> apply(const std::vector<txn::TxnAction>& actions, TimePoint now) {
        std::vector<txn::TxnAction> deliveries;
        for (const auto& a : actions) {
            switch (a.kind) {
                case txn::TxnAction::Kind::Send:
                    sent.push_back({std::string(a.bytes), a.peer, a.retransmission, now});
                    break;
                case txn::TxnAction::Kind::ArmTimer: timers[{a.txn, a.timer}] = a.at; break;
                case txn::TxnAction::Kind::CancelTimer: timers.erase({a.txn, a.timer}); break;
                default: deliveries.push_back(a); break;
            }
        }
        return deliveries;
    }

    // The earliest armed timer, if any.
    bool next(Key& key, TimePoint& at) const {
        bool found = false;
        for (const auto& [k, t] : timers) {
            if (!found || t < at) {
                key = k;
                at = t;
                found = true;
            }
        }
        return found;
    }

    // Fires every timer due up to `until` through `fire(txn, kind, at)`; bounded.
    template <class Fire>
    void runUntil(TimePoint until, Fire&& fire) {
        for (int guard = 0; guard < 10'000; ++guard) {
            Key k;
            TimePoint at;
            if (!next(k, at) || at > until) return;
            timers.erase(k);
            fire(k.first, k.second, at);
        }
    }

    bool armed(txn::TxnId id, txn::TimerKind kind) const { return timers.count({id, kind}) != 0; }
    TimePoint deadline(txn::TxnId id, txn::TimerKind kind) const { return timers.at({id, kind}); }

    std::vector<SentBytes> sent;
    std::map<Key, TimePoint> timers;
};

}  // namespace sipreg::test
