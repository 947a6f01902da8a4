#pragma once
// The two halves of message parsing, shared by parseDatagram and StreamFramer: parseHead reads
// the start line and header section in place (views into the caller's bytes), finish copies the
// message into the Message's own buffer once the body length is known. Internal to the library.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "sip/message.h"
#include "util/result.h"

namespace sipreg::sip {

class MessageParser {
public:
    struct Head {
        Message message;                        // views still point into the parsed bytes
        std::size_t start = 0;                  // offset of the start line (after leading CRLFs)
        std::size_t bodyStart = 0;              // offset just past the empty line
        std::optional<uint32_t> contentLength;  // validated; nullopt when absent
    };

    // `data` must hold at least the whole header section; errors carry offsets into `data`.
    static Result<Head> parseHead(std::string_view data, const ParseLimits& limits);
    // Copies data[head.start, head.bodyStart + bodyLength) into the message and re-points
    // every view at the copy.
    static Message finish(Head&& head, std::string_view data, std::size_t bodyLength);
};

}  // namespace sipreg::sip
