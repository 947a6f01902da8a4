#include "util/timer_queue.h"

#include <stdexcept>
#include <utility>

namespace sipreg {

namespace {
// Below this size a stale-heavy heap costs nothing worth a rebuild.
constexpr std::size_t kCompactMinHeap = 64;
}  // namespace

TimerQueue::Id TimerQueue::create() {
    uint32_t index;
    if (!freeSlots_.empty()) {
        index = freeSlots_.back();
        freeSlots_.pop_back();
    } else {
        if (slots_.size() >= UINT32_MAX - 1) throw std::length_error("TimerQueue: too many timers");
        index = static_cast<uint32_t>(slots_.size());
        slots_.emplace_back();
    }
    Slot& slot = slots_[index];
    slot.inUse = true;
    slot.armed = false;
    return Id{index};
}

void TimerQueue::arm(Id id, TimePoint at, Callback cb) {
    if (!id.valid() || id.slot >= slots_.size() || !slots_[id.slot].inUse) {
        throw std::logic_error("TimerQueue::arm on a timer id that was never created or was destroyed");
    }
    Slot& slot = slots_[id.slot];
    if (!slot.armed) ++live_;
    ++slot.generation;  // any older heap entry for this slot is now stale
    slot.armed = true;
    slot.at = at;
    slot.cb = std::move(cb);
    heap_.push(Entry{at, seq_++, id.slot, slot.generation});
    compactIfMostlyStale();
}

void TimerQueue::cancel(Id id) noexcept {
    if (!id.valid() || id.slot >= slots_.size()) return;
    Slot& slot = slots_[id.slot];
    if (!slot.armed) return;
    slot.armed = false;
    ++slot.generation;
    slot.cb = nullptr;
    --live_;
}

void TimerQueue::destroy(Id id) noexcept {
    if (!id.valid() || id.slot >= slots_.size() || !slots_[id.slot].inUse) return;
    cancel(id);
    Slot& slot = slots_[id.slot];
    slot.inUse = false;
    // The generation is never reset, so entries left in the heap by the slot's previous
    // owner can never match whoever reuses the slot.
    ++slot.generation;
    try {
        freeSlots_.push_back(id.slot);
    } catch (...) {
        // Out of memory: the slot is simply not reused.
    }
}

bool TimerQueue::armed(Id id) const noexcept {
    return id.valid() && id.slot < slots_.size() && slots_[id.slot].inUse && slots_[id.slot].armed;
}

std::optional<TimePoint> TimerQueue::deadline(Id id) const noexcept {
    if (!armed(id)) return std::nullopt;
    return slots_[id.slot].at;
}

std::optional<TimePoint> TimerQueue::nextDeadline() {
    while (!heap_.empty()) {
        const Entry& top = heap_.top();
        const Slot& slot = slots_[top.slot];
        if (slot.armed && slot.generation == top.generation) return top.at;
        heap_.pop();
    }
    return std::nullopt;
}

std::size_t TimerQueue::runDue(TimePoint now) {
    // Entries armed by a callback during this pass wait for the next pass even when
    // already due, so a callback that re-arms itself at `now` cannot spin forever.
    const uint64_t passStart = seq_;
    std::vector<Entry> deferred;
    struct Restore {
        TimerQueue& q;
        std::vector<Entry>& entries;
        ~Restore() {
            for (const Entry& e : entries) q.heap_.push(e);
        }
    } restore{*this, deferred};

    std::size_t ran = 0;
    while (!heap_.empty()) {
        const Entry top = heap_.top();
        Slot& slot = slots_[top.slot];
        if (!slot.armed || slot.generation != top.generation) {
            heap_.pop();
            continue;
        }
        if (top.at > now) break;
        heap_.pop();
        if (top.seq >= passStart) {
            deferred.push_back(top);
            continue;
        }
        slot.armed = false;
        --live_;
        // Moved out before the call: the callback may re-arm, destroy or reuse its slot,
        // and may grow slots_ (so no reference into it survives the call).
        Callback cb = std::move(slot.cb);
        slot.cb = nullptr;
        ++ran;
        if (cb) cb(now);
    }
    return ran;
}

void TimerQueue::compactIfMostlyStale() {
    const std::size_t size = heap_.size();
    if (size < kCompactMinHeap || size <= 2 * live_) return;
    // Popping yields entries in heap order, so the kept ones form an ascending sequence,
    // which is already a valid min-heap; the rebuild below is then linear.
    std::vector<Entry> kept;
    kept.reserve(live_);
    while (!heap_.empty()) {
        const Entry& e = heap_.top();
        const Slot& slot = slots_[e.slot];
        if (slot.armed && slot.generation == e.generation) kept.push_back(e);
        heap_.pop();
    }
    heap_ = decltype(heap_)(std::greater<>{}, std::move(kept));
}

}  // namespace sipreg
