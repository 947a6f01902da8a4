#pragma once
// All deadlines of the process (refresh, retry, transaction timers E/F/K, keep-alives) in
// one min-heap, driven by a single loop timer re-armed to the earliest deadline. Cancel is
// lazy: a cancelled or re-armed timer leaves a stale heap entry that is skipped by its
// generation number, so arming is O(log n) and cancelling is O(1).
#include <cstdint>
#include <functional>
#include <optional>
#include <queue>
#include <vector>

#include "util/clock.h"

namespace sipreg {

class TimerQueue {
public:
    using Callback = std::function<void(TimePoint now)>;

    // A timer slot; re-arming an existing id replaces its deadline and callback.
    struct Id {
        uint32_t slot = UINT32_MAX;
        bool valid() const noexcept { return slot != UINT32_MAX; }
    };

    Id create();                                   // reserve a slot (no deadline yet)
    void arm(Id id, TimePoint at, Callback cb);    // (re)arm; replaces any pending deadline
    void cancel(Id id) noexcept;                   // no-op if not armed
    void destroy(Id id) noexcept;                  // cancel and free the slot for reuse
    bool armed(Id id) const noexcept;
    std::optional<TimePoint> deadline(Id id) const noexcept;

    // Earliest live deadline, skipping stale entries.
    std::optional<TimePoint> nextDeadline();
    // Runs every callback whose deadline <= now, in deadline order (ties in arming order).
    // Callbacks may arm, cancel or destroy timers, including their own.
    std::size_t runDue(TimePoint now);

    std::size_t liveCount() const noexcept { return live_; }
    std::size_t heapSize() const noexcept { return heap_.size(); }

private:
    struct Slot {
        uint64_t generation = 0;
        bool armed = false;
        bool inUse = false;
        TimePoint at{};
        Callback cb;
    };
    struct Entry {
        TimePoint at;
        uint64_t seq;
        uint32_t slot;
        uint64_t generation;
        bool operator>(const Entry& o) const noexcept {
            return at != o.at ? at > o.at : seq > o.seq;
        }
    };
    void compactIfMostlyStale();

    std::vector<Slot> slots_;
    std::vector<uint32_t> freeSlots_;
    std::priority_queue<Entry, std::vector<Entry>, std::greater<>> heap_;
    uint64_t seq_ = 0;
    std::size_t live_ = 0;
};

}  // namespace sipreg
