#pragma once
// Frames SIP messages out of a byte stream (TCP/TLS): Content-Length delimits the body
// (mandatory on streams, RFC 3261 18.3), several messages may arrive in one read, one
// message may be split over many, and CRLF keep-alives (RFC 5626 3.5.1) may sit between.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sip/message.h"
#include "util/result.h"

namespace sipreg::sip {

class StreamFramer {
public:
    explicit StreamFramer(ParseLimits limits = {}) : limits_(limits) {}

    struct Output {
        std::vector<Message> messages;
        std::size_t pings = 0;  // "\r\n\r\n" keep-alive pings seen (to answer with a pong)
        std::size_t pongs = 0;  // lone "\r\n" pongs seen
    };

    // Feeds bytes; returns complete messages. An error means the stream is unrecoverable
    // (bad framing, over the limits) and the connection should be closed.
    Result<Output> feed(std::string_view bytes);
    std::size_t buffered() const noexcept { return buf_.size(); }

private:
    ParseLimits limits_;
    std::string buf_;                          // starts at the next unconsumed byte
    std::size_t scanFrom_ = 0;                 // where to resume looking for the header end
    std::optional<std::size_t> pendingTotal_;  // size of the message at buf_ start, once known
};

}  // namespace sipreg::sip
