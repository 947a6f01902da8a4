#include "once_run.h"

#include <algorithm>
#include <ostream>

#include "reg/reg_types.h"

namespace sipreg::daemon {

std::optional<OnceResult> onceOutcome(const app::LineStatus& status) {
    OnceResult r;
    r.id = status.id;
    r.code = status.lastStatusCode;
    r.reason = status.lastReason;
    r.grantedSeconds = status.grantedSeconds;
    r.target = status.target;
    switch (status.state) {
        case reg::State::Registered: r.registered = true; break;
        case reg::State::Failed:
        case reg::State::Waiting: break;
        default:
            if (!status.setupError.empty()) {
                r.outcome = "failed";
                r.reason = status.setupError;
                return r;
            }
            return std::nullopt;
    }
    r.outcome = std::string(reg::stateName(status.state));
    // Round trip: from entering `registering` (the first REGISTER) to the outcome.
    std::optional<TimePoint> began;
    for (const app::StateChangeRecord& c : status.history) {
        if (c.to == reg::State::Registering && !began) began = c.at;
        if (c.to == status.state && began) r.roundTrip = c.at - *began;
    }
    return r;
}

void printOnceTable(std::ostream& out, const std::vector<OnceResult>& results) {
    const std::vector<std::string> header{"LINE", "RESULT", "CODE", "REASON", "EXPIRES", "RTT", "TARGET"};
    std::vector<std::vector<std::string>> rows;
    for (const OnceResult& r : results) {
        rows.push_back({r.id, r.outcome, r.code > 0 ? std::to_string(r.code) : "-", r.reason.empty() ? "-" : r.reason,
                        r.registered ? std::to_string(r.grantedSeconds) + " s" : "-",
                        r.roundTrip ? std::to_string(r.roundTrip->count()) + " ms" : "-",
                        r.target.empty() ? "-" : r.target});
    }
    std::vector<std::size_t> width(header.size());
    for (std::size_t i = 0; i < header.size(); ++i) width[i] = header[i].size();
    for (const auto& row : rows) {
        for (std::size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
    }
    auto print = [&](const std::vector<std::string>& row) {
        for (std::size_t i = 0; i < row.size(); ++i) {
            out << row[i];
            if (i + 1 < row.size()) out << std::string(width[i] - row[i].size() + 2, ' ');
        }
        out << '\n';
    };
    print(header);
    for (const auto& row : rows) print(row);
    const auto ok = std::count_if(results.begin(), results.end(), [](const OnceResult& r) { return r.registered; });
    out << ok << "/" << results.size() << " registered\n";
}

OnceWatcher::OnceWatcher(uv_loop_t* loop, const app::LineManager& manager, const Clock& clock, Duration limit,
                         Done done)
    : manager_(manager), clock_(clock), deadline_(clock.now() + limit), done_(std::move(done)) {
    uv_timer_init(loop, timer_.get());
    timer_.get()->data = this;
    uv_timer_start(timer_.get(), &OnceWatcher::onTimer, 50, 50);
}

void OnceWatcher::onTimer(uv_timer_t* t) noexcept {
    auto* self = net::ownerOf<OnceWatcher>(t);
    if (self == nullptr) return;
    net::guardCallback("once watcher", [self] { self->poll(); });
}

void OnceWatcher::poll() {
    const bool late = clock_.now() >= deadline_;
    std::vector<OnceResult> results;
    for (const app::LineStatus& st : manager_.statusAll(true)) {
        auto r = onceOutcome(st);
        if (!r && !late) return;  // still trying
        if (!r) {
            r = OnceResult{};
            r->id = st.id;
            r->outcome = "no result";
            r->reason = st.lastReason.empty() ? std::string("still ") + std::string(reg::stateName(st.state))
                                              : st.lastReason;
            r->target = st.target;
        }
        results.push_back(std::move(*r));
    }
    timer_.reset();
    Done done = std::move(done_);
    done(std::move(results));
}

}  // namespace sipreg::daemon
