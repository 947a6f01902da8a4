#include "sip/stream_framer.h"

#include <cstring>

#include "sip/message_parser.h"

namespace sipreg::sip {
namespace {

// Index just past the empty line ending a header section ("\n\n" or "\n\r\n"), searching from
// `from`; npos when the section is not complete yet.
std::size_t findHeaderEnd(std::string_view s, std::size_t from) noexcept {
    std::size_t pos = from;
    while (pos < s.size()) {
        const void* nl = std::memchr(s.data() + pos, '\n', s.size() - pos);
        if (nl == nullptr) return std::string_view::npos;
        std::size_t lf = static_cast<std::size_t>(static_cast<const char*>(nl) - s.data());
        if (lf + 1 < s.size() && s[lf + 1] == '\n') return lf + 2;
        if (lf + 2 < s.size() && s[lf + 1] == '\r' && s[lf + 2] == '\n') return lf + 3;
        pos = lf + 1;
    }
    return std::string_view::npos;
}

}  // namespace

Result<StreamFramer::Output> StreamFramer::feed(std::string_view bytes) {
    Output out;
    buf_.append(bytes);
    const std::string_view view(buf_);
    std::size_t off = 0;
    while (off < view.size()) {
        if (!pendingTotal_) {
            // Between messages: RFC 5626 3.5.1 keep-alives. A lone CRLF at the end of the data is
            // taken as a pong at once so that answering keep-alives is never delayed.
            const std::string_view rest = view.substr(off);
            if (rest.starts_with("\r\n\r\n")) {
                ++out.pings;
                off += 4;
                continue;
            }
            if (rest.starts_with("\r\n")) {
                if (rest.size() == 3 && rest[2] == '\r') break;
                ++out.pongs;
                off += 2;
                continue;
            }
            if (rest[0] == '\n') {
                ++off;
                continue;
            }
            if (rest == "\r") break;
        }

        const std::string_view msg = view.substr(off);
        if (!pendingTotal_) {
            std::size_t headerEnd = findHeaderEnd(msg, scanFrom_);
            if (headerEnd == std::string_view::npos) {
                if (msg.size() > limits_.maxMessageBytes) {
                    return makeError("header section longer than " + std::to_string(limits_.maxMessageBytes) +
                                     " bytes", off);
                }
                scanFrom_ = msg.size() >= 2 ? msg.size() - 2 : 0;
                break;
            }
            if (headerEnd > limits_.maxMessageBytes) {
                return makeError("message larger than " + std::to_string(limits_.maxMessageBytes) + " bytes", off);
            }
            auto head = MessageParser::parseHead(msg.substr(0, headerEnd), limits_);
            if (!head) {
                Error e = head.error();
                if (e.hasOffset()) e.offset += off;
                return e;
            }
            if (!head->contentLength) return makeError("message on a stream without Content-Length", off);
            std::size_t total = head->bodyStart + *head->contentLength;
            if (total > limits_.maxMessageBytes) {
                return makeError("message larger than " + std::to_string(limits_.maxMessageBytes) + " bytes", off);
            }
            pendingTotal_ = total;
            scanFrom_ = 0;
        }
        if (msg.size() < *pendingTotal_) break;
        const std::string_view whole = msg.substr(0, *pendingTotal_);
        auto head = MessageParser::parseHead(whole, limits_);
        if (!head) return head.error();  // unreachable: the same bytes parsed above
        const std::size_t bodyLength = *head->contentLength;
        out.messages.push_back(MessageParser::finish(std::move(*head), whole, bodyLength));
        off += *pendingTotal_;
        pendingTotal_.reset();
    }
    buf_.erase(0, off);
    return out;
}

}  // namespace sipreg::sip
