#include "net/tls_errors.h"

#include <openssl/err.h>

namespace sipreg::net {

OpenSslErrorScope::OpenSslErrorScope() noexcept { ERR_clear_error(); }
OpenSslErrorScope::~OpenSslErrorScope() { ERR_clear_error(); }

std::string drainOpenSslErrors(const char* fallback) {
    std::string text;
    // Bounded: the queue holds at most ERR_NUM_ERRORS entries, the cap only guards the loop.
    for (int i = 0; i < 64; ++i) {
        const unsigned long code = ERR_get_error();
        if (code == 0) break;
        const char* reason = ERR_reason_error_string(code);
        std::string part;
        if (reason != nullptr) {
            part = reason;
        } else {
            char buffer[256];
            ERR_error_string_n(code, buffer, sizeof buffer);
            part = buffer;
        }
        if (text.find(part) != std::string::npos) continue;  // OpenSSL often repeats itself
        if (!text.empty()) text += "; ";
        text += part;
    }
    if (text.empty()) text = fallback;
    return text;
}

}  // namespace sipreg::net
