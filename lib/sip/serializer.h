#pragma once
// Byte-exact, predictable serialization: header order is the order given, names are
// written as given, CRLF line ends, Content-Length always last and always present.
#include <string>
#include <string_view>
#include <vector>

#include "sip/message.h"

namespace sipreg::sip {

struct OutHeader {
    std::string name;   // written as is ("Via", "Call-ID", ...)
    std::string value;
};

struct OutgoingRequest {
    std::string method;              // "REGISTER", "OPTIONS"
    std::string requestUri;
    std::vector<OutHeader> headers;  // everything but Content-Length
    std::string body;
};

struct OutgoingResponse {
    int statusCode = 200;
    std::string reason;
    std::vector<OutHeader> headers;
    std::string body;
};

std::string serialize(const OutgoingRequest& r);
std::string serialize(const OutgoingResponse& r);
// Appends to `out` instead of allocating a new string (the refresh path reuses buffers).
void serializeTo(std::string& out, const OutgoingRequest& r);
void serializeTo(std::string& out, const OutgoingResponse& r);

// A response to `request` per RFC 3261 8.2.6: copies Via (all, in order), From, To (adds
// `toTag` when the To has no tag and toTag is non-empty), Call-ID and CSeq; then `extra`.
OutgoingResponse makeResponse(const Message& request, int statusCode, std::string reason,
                              std::string_view toTag = {}, std::vector<OutHeader> extra = {});

}  // namespace sipreg::sip
