#include "net/stream_format.h"

namespace sipreg::net {

std::string formatDuration(Duration d) {
    const int64_t ms = d.count() < 0 ? 0 : d.count();
    if (ms < 1000) return std::to_string(ms) + " ms";
    if (ms % 1000 == 0 || ms >= 10000) return std::to_string((ms + 500) / 1000) + " s";
    const int64_t tenths = (ms + 50) / 100;
    return std::to_string(tenths / 10) + "." + std::to_string(tenths % 10) + " s";
}

}  // namespace sipreg::net
