#pragma once
// `sipregd --once`: registers the chosen lines one time, waits for each line's first outcome
// (registered, or a refusal, timeout or transport failure: no retry), prints a table and
// lets the daemon unregister them. For trying credentials and provider settings before going
// live.
#include <uv.h>

#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

#include "app/line_manager.h"
#include "net/uv_handle.h"
#include "util/clock.h"

namespace sipreg::daemon {

struct OnceResult {
    std::string id;
    bool registered = false;
    std::string outcome;         // "registered", "failed", "waiting", "no result"
    int code = 0;                // last final response, 0 for none
    std::string reason;          // its reason phrase, or "no response" / "transport error: ..."
    int64_t grantedSeconds = 0;
    std::optional<Duration> roundTrip;  // from the first REGISTER to the outcome
    std::string target;
};

// The outcome of one line from its status, or nullopt while it is still trying.
std::optional<OnceResult> onceOutcome(const app::LineStatus& status);
// The result table (aligned columns, one line per result) and a summary line.
void printOnceTable(std::ostream& out, const std::vector<OnceResult>& results);

class OnceWatcher {
public:
    using Done = std::function<void(std::vector<OnceResult>)>;
    // Polls the manager until every line has an outcome or `limit` passed, then calls done
    // once (from the loop).
    OnceWatcher(uv_loop_t* loop, const app::LineManager& manager, const Clock& clock, Duration limit, Done done);
    void close() { timer_.reset(); }

private:
    void poll();
    static void onTimer(uv_timer_t* t) noexcept;

    const app::LineManager& manager_;
    const Clock& clock_;
    TimePoint deadline_;
    Done done_;
    net::UvHandle<uv_timer_t> timer_;
};

}  // namespace sipreg::daemon
