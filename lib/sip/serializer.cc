#include "sip/serializer.h"

#include "sip/text.h"
#include "sip/typed_headers.h"

namespace sipreg::sip {
namespace {

// The caller's Content-Length, if any, is dropped: the serializer writes the only one.
bool isContentLength(std::string_view name) noexcept {
    return headerIdFromName(name) == HeaderId::ContentLength;
}

std::size_t headersSize(const std::vector<OutHeader>& headers) {
    std::size_t n = 0;
    for (const auto& h : headers) n += h.name.size() + h.value.size() + 4;
    return n;
}

void appendHeadersAndBody(std::string& out, const std::vector<OutHeader>& headers, const std::string& body) {
    for (const auto& h : headers) {
        if (isContentLength(h.name)) continue;
        out += h.name;
        out += ": ";
        out += h.value;
        out += "\r\n";
    }
    out += "Content-Length: ";
    out += std::to_string(body.size());
    out += "\r\n\r\n";
    out += body;
}

// Folded header values are written on one line: each line break with its indentation becomes
// a single space, which RFC 3261 7.3.1 defines as equivalent.
std::string unfold(std::string_view v) {
    std::string out;
    out.reserve(v.size());
    for (std::size_t i = 0; i < v.size(); ++i) {
        char c = v[i];
        if (c == '\r' || c == '\n') {
            while (i + 1 < v.size() && text::isLws(v[i + 1])) ++i;
            if (!out.empty() && out.back() != ' ') out += ' ';
            continue;
        }
        out += c;
    }
    return out;
}

}  // namespace

void serializeTo(std::string& out, const OutgoingRequest& r) {
    out.reserve(out.size() + r.method.size() + r.requestUri.size() + headersSize(r.headers) + r.body.size() + 48);
    out += r.method;
    out += ' ';
    out += r.requestUri;
    out += " SIP/2.0\r\n";
    appendHeadersAndBody(out, r.headers, r.body);
}

void serializeTo(std::string& out, const OutgoingResponse& r) {
    out.reserve(out.size() + r.reason.size() + headersSize(r.headers) + r.body.size() + 48);
    out += "SIP/2.0 ";
    out += std::to_string(r.statusCode);
    out += ' ';
    out += r.reason;
    out += "\r\n";
    appendHeadersAndBody(out, r.headers, r.body);
}

std::string serialize(const OutgoingRequest& r) {
    std::string out;
    serializeTo(out, r);
    return out;
}

std::string serialize(const OutgoingResponse& r) {
    std::string out;
    serializeTo(out, r);
    return out;
}

OutgoingResponse makeResponse(const Message& request, int statusCode, std::string reason, std::string_view toTag,
                              std::vector<OutHeader> extra) {
    OutgoingResponse resp;
    resp.statusCode = statusCode;
    resp.reason = std::move(reason);
    resp.headers.reserve(request.headers().size() + extra.size());
    auto copy = [&](HeaderId id) {
        for (const auto& h : request.headers()) {
            if (h.id != id) continue;
            OutHeader out{std::string(canonicalHeaderName(id)), unfold(h.value)};
            if (id == HeaderId::To && !toTag.empty()) {
                auto to = parseNameAddr(h.value);
                if (to && to->tag().empty()) {
                    out.value += ";tag=";
                    out.value += toTag;
                }
            }
            resp.headers.push_back(std::move(out));
        }
    };
    copy(HeaderId::Via);
    copy(HeaderId::From);
    copy(HeaderId::To);
    copy(HeaderId::CallId);
    copy(HeaderId::CSeq);
    for (auto& h : extra) resp.headers.push_back(std::move(h));
    return resp;
}

}  // namespace sipreg::sip
