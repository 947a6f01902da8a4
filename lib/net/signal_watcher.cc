#include "net/signal_watcher.h"

#include <csignal>
#include <cstring>
#include <string>

#include "net/transport_error.h"

namespace sipreg::net {

SignalWatcher::SignalWatcher(uv_loop_t* loop, Handler handler) : loop_(loop), handler_(std::move(handler)) {}

Result<void> SignalWatcher::start() {
    for (std::size_t i = 0; i < kSignals.size(); ++i) {
        auto& h = handles_[i];
        if (!h) h = UvHandle<uv_signal_t>();
        if (h.initialised()) continue;
        int rc = uv_signal_init(loop_, h.get());
        if (rc == 0) {
            h.get()->data = this;
            rc = uv_signal_start(h.get(), &SignalWatcher::onSignal, kSignals[i]);
        }
        if (rc != 0) {
            close();
            return makeError(describeUvError(std::string("watch signal ") + strsignal(kSignals[i]), rc));
        }
        uv_unref(h.base());
    }
    return {};
}

void SignalWatcher::close() noexcept {
    for (auto& h : handles_) h.reset();
}

void SignalWatcher::ignoreSigpipe() noexcept { std::signal(SIGPIPE, SIG_IGN); }

void SignalWatcher::onSignal(uv_signal_t* h, int signum) noexcept {
    auto* self = ownerOf<SignalWatcher>(h);
    if (self == nullptr || !self->handler_) return;
    guardCallback("signal", [self, signum] { self->handler_(signum); });
}

}  // namespace sipreg::net
