#pragma once
// SIGTERM, SIGINT and SIGHUP delivered as loop callbacks (never in signal context). The
// handles are unref'd so they do not keep a loop alive that has nothing else to do.
#include <uv.h>

#include <array>
#include <functional>

#include "net/uv_handle.h"
#include "util/result.h"

namespace sipreg::net {

class SignalWatcher {
public:
    using Handler = std::function<void(int signum)>;

    SignalWatcher(uv_loop_t* loop, Handler handler);
    SignalWatcher(const SignalWatcher&) = delete;
    SignalWatcher& operator=(const SignalWatcher&) = delete;

    // Starts watching; an error names the signal that could not be watched.
    Result<void> start();
    void close() noexcept;

    // A write to a closed TCP/TLS peer must be an error value, not a dead process.
    static void ignoreSigpipe() noexcept;

    static constexpr std::array<int, 3> kSignals{SIGTERM, SIGINT, SIGHUP};

private:
    static void onSignal(uv_signal_t* h, int signum) noexcept;

    uv_loop_t* loop_;
    Handler handler_;
    std::array<UvHandle<uv_signal_t>, kSignals.size()> handles_;
};

}  // namespace sipreg::net
