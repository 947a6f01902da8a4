// libFuzzer target: feeds the input to a StreamFramer in chunks whose sizes come from the input's
// first byte, so that splits at every position get explored. Also checks that framing the same
// bytes in one piece yields the same messages.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sip/stream_framer.h"

using namespace sipreg::sip;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;
    const std::size_t step = 1 + data[0] % 64;
    const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);

    ParseLimits limits;
    limits.maxMessageBytes = 4096;  // small, so that the limit paths are reachable
    StreamFramer chunked(limits);
    std::vector<std::string> chunkedMessages;
    bool chunkedFailed = false;
    for (std::size_t off = 0; off < input.size() && !chunkedFailed; off += step) {
        auto out = chunked.feed(input.substr(off, step));
        if (!out) {
            chunkedFailed = true;
            break;
        }
        for (const auto& m : out->messages) chunkedMessages.emplace_back(m.raw());
    }

    StreamFramer whole(limits);
    auto out = whole.feed(input);
    if (!chunkedFailed && out) {
        // Same bytes, same messages, whatever the read boundaries.
        if (out->messages.size() != chunkedMessages.size()) __builtin_trap();
        for (std::size_t i = 0; i < chunkedMessages.size(); ++i) {
            if (out->messages[i].raw() != chunkedMessages[i]) __builtin_trap();
        }
    }
    return 0;
}
