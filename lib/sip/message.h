#pragma once
// A parsed SIP message. The message owns its bytes; every string_view handed out by it or
// by the typed accessors in typed_headers.h points into those bytes and stays valid while
// the Message lives (moving a Message keeps them valid: the buffer is heap-owned).
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sip/header_id.h"
#include "sip/uri.h"
#include "util/result.h"

namespace sipreg::sip {

struct HeaderField {
    HeaderId id = HeaderId::Other;
    std::string_view name;   // as received (may be compact, any case)
    std::string_view value;  // trimmed; may contain folded line breaks (CRLF + WSP), treat as LWS
};

class Message {
public:
    bool isRequest() const noexcept { return isRequest_; }
    bool isResponse() const noexcept { return !isRequest_; }

    // Request line (requests only).
    std::string_view method() const noexcept { return method_; }
    std::string_view requestUriText() const noexcept { return requestUri_; }
    // The Request-URI as parsed during parseDatagram (it is validated there).
    const Uri& requestUri() const noexcept { return requestUriParsed_; }
    // "SIP/2.0" as received, from the request line or the status line. The parser accepts any
    // "SIP/x.y" so that validateRequest can answer 505 instead of dropping the message.
    std::string_view version() const noexcept { return version_; }
    // Status line (responses only).
    int statusCode() const noexcept { return status_; }
    std::string_view reason() const noexcept { return reason_; }

    // Every header field in order of arrival, one entry per header line (a line with
    // several comma-separated values is one entry; the typed accessors split them).
    const std::vector<HeaderField>& headers() const noexcept { return headers_; }
    // First header with that id / that name (case-insensitive, compact forms match).
    std::optional<std::string_view> header(HeaderId id) const noexcept;
    std::optional<std::string_view> header(std::string_view name) const noexcept;

    std::string_view body() const noexcept { return body_; }
    // The whole message as received (start line to end of body).
    std::string_view raw() const noexcept;

private:
    friend class MessageParser;
    std::unique_ptr<char[]> buf_;
    std::size_t size_ = 0;
    bool isRequest_ = false;
    std::string_view method_, requestUri_, reason_, body_, version_;
    Uri requestUriParsed_;
    int status_ = 0;
    std::vector<HeaderField> headers_;
};

struct ParseLimits {
    std::size_t maxMessageBytes = 64 * 1024;
    std::size_t maxHeaderCount = 256;
    std::size_t maxLineBytes = 8 * 1024;
};

// Parses one message from a UDP datagram. Octets after the Content-Length body are ignored
// (RFC 3261 18.3); a missing Content-Length means the body runs to the datagram's end.
// Errors name what is wrong and the byte offset where it was found.
Result<Message> parseDatagram(std::string_view datagram, const ParseLimits& limits = {});

}  // namespace sipreg::sip
