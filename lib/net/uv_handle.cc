#include "net/uv_handle.h"

#include <spdlog/spdlog.h>

namespace sipreg::net {

void reportCallbackException(const char* where, const std::exception* e) noexcept {
    try {
        if (e != nullptr) {
            spdlog::error("loop.callback_exception where={} what=\"{}\"", where, e->what());
        } else {
            spdlog::error("loop.callback_exception where={} what=unknown", where);
        }
    } catch (...) {
        // Logging itself failed; nothing sensible is left to do.
    }
}

}  // namespace sipreg::net
