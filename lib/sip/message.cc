#include "sip/message.h"

#include <cstring>
#include <string>

#include "sip/message_parser.h"
#include "sip/text.h"

namespace sipreg::sip {
namespace {

// Most messages a registration client sees have 8 to 16 header lines; one reserve covers them.
constexpr std::size_t kExpectedHeaders = 20;

struct Line {
    std::size_t begin = 0;
    std::size_t end = 0;   // content end, without CR LF
    std::size_t next = 0;  // start of the following line
    bool terminated = false;
};

// Lines end in CRLF; a bare LF is accepted too because real peers send it.
Line nextLine(std::string_view d, std::size_t pos) noexcept {
    Line l;
    l.begin = pos;
    const void* nl = std::memchr(d.data() + pos, '\n', d.size() - pos);
    if (nl == nullptr) {
        l.end = d.size();
        l.next = d.size();
        return l;
    }
    std::size_t lf = static_cast<std::size_t>(static_cast<const char*>(nl) - d.data());
    l.end = (lf > pos && d[lf - 1] == '\r') ? lf - 1 : lf;
    l.next = lf + 1;
    l.terminated = true;
    return l;
}

std::string lineMsg(std::size_t lineNo, std::string_view what) {
    std::string s = "line ";
    s += std::to_string(lineNo);
    s += ": ";
    s += what;
    return s;
}

// SIP-Version = "SIP" "/" 1*DIGIT "." 1*DIGIT, "SIP" case-insensitive.
bool isSipVersion(std::string_view v) noexcept {
    if (v.size() < 7 || !text::iequals(v.substr(0, 4), "SIP/")) return false;
    std::size_t dot = v.find('.', 4);
    if (dot == std::string_view::npos || dot == 4 || dot + 1 == v.size()) return false;
    for (std::size_t i = 4; i < v.size(); ++i) {
        if (i != dot && !text::isDigit(v[i])) return false;
    }
    return true;
}

Result<void> parseStatusLine(std::string_view d, const Line& l, bool& isRequest, std::string_view& version,
                             int& status, std::string_view& reason) {
    std::string_view line = d.substr(l.begin, l.end - l.begin);
    isRequest = false;
    std::size_t sp = line.find(' ');
    if (sp == std::string_view::npos) return makeError("line 1: status line without status code", l.end);
    version = line.substr(0, sp);
    if (!isSipVersion(version)) return makeError("line 1: invalid SIP version", l.begin);
    std::size_t p = sp;
    while (p < line.size() && line[p] == ' ') ++p;
    std::size_t codeStart = p;
    while (p < line.size() && text::isDigit(line[p])) ++p;
    if (p - codeStart != 3 || (p < line.size() && line[p] != ' ' && line[p] != '\t')) {
        return makeError("line 1: status code must be three digits", l.begin + codeStart);
    }
    status = (line[codeStart] - '0') * 100 + (line[codeStart + 1] - '0') * 10 + (line[codeStart + 2] - '0');
    if (status < 100 || status > 699) {
        return makeError("line 1: status code out of range 100-699", l.begin + codeStart);
    }
    std::string_view rest = p < line.size() ? line.substr(p + 1) : std::string_view{line.data() + line.size(), 0};
    while (!rest.empty() && text::isWsp(rest.back())) rest.remove_suffix(1);
    reason = rest;
    return {};
}

bool hasWsp(std::string_view s) noexcept {
    for (char c : s) {
        if (text::isWsp(c)) return true;
    }
    return false;
}

}  // namespace

std::optional<std::string_view> Message::header(HeaderId id) const noexcept {
    for (const auto& h : headers_) {
        if (h.id == id) return h.value;
    }
    return std::nullopt;
}

std::optional<std::string_view> Message::header(std::string_view name) const noexcept {
    HeaderId id = headerIdFromName(name);
    if (id != HeaderId::Other) return header(id);
    for (const auto& h : headers_) {
        if (h.id == HeaderId::Other && text::iequals(h.name, name)) return h.value;
    }
    return std::nullopt;
}

std::string_view Message::raw() const noexcept { return {buf_.get(), size_}; }

Result<MessageParser::Head> MessageParser::parseHead(std::string_view d, const ParseLimits& limits) {
    Head head;
    Message& m = head.message;
    std::size_t pos = 0;
    // RFC 3261 7.5: CRLFs before the start line are ignored.
    while (pos < d.size() && (d[pos] == '\r' || d[pos] == '\n')) ++pos;
    if (pos == d.size()) return makeError("empty message", 0);
    head.start = pos;

    Line l = nextLine(d, pos);
    if (!l.terminated) return makeError("line 1: start line not terminated", d.size());
    if (l.end - l.begin > limits.maxLineBytes) {
        return makeError(lineMsg(1, "longer than " + std::to_string(limits.maxLineBytes) + " bytes"), l.begin);
    }
    std::string_view line = d.substr(l.begin, l.end - l.begin);
    if (line.size() >= 4 && text::iequals(line.substr(0, 4), "SIP/")) {
        if (auto r = parseStatusLine(d, l, m.isRequest_, m.version_, m.status_, m.reason_); !r) {
            return r.error();
        }
    } else {
        m.isRequest_ = true;
        // Extra SP between the elements and trailing SP (RFC 4475 3.1.2.9/10) are tolerated;
        // whitespace inside the Request-URI is not.
        while (!line.empty() && text::isWsp(line.back())) line.remove_suffix(1);
        std::size_t sp1 = line.find(' ');
        if (sp1 == std::string_view::npos) return makeError("line 1: request line without Request-URI", l.begin);
        m.method_ = line.substr(0, sp1);
        if (!text::isToken(m.method_)) return makeError("line 1: invalid method", l.begin);
        std::size_t sp2 = line.rfind(' ');
        std::string_view uri = line.substr(sp1, sp2 - sp1);
        while (!uri.empty() && text::isWsp(uri.front())) uri.remove_prefix(1);
        while (!uri.empty() && text::isWsp(uri.back())) uri.remove_suffix(1);
        m.version_ = line.substr(sp2 + 1);
        std::size_t uriOffset = l.begin + static_cast<std::size_t>(uri.data() - line.data());
        if (uri.empty() || !isSipVersion(m.version_)) {
            return makeError("line 1: request line must be 'Method SP Request-URI SP SIP-Version'", l.begin);
        }
        if (hasWsp(uri)) return makeError("line 1: whitespace inside Request-URI", uriOffset);
        auto parsed = parseUri(uri);
        if (!parsed) {
            std::size_t off = parsed.error().hasOffset() ? uriOffset + parsed.error().offset : uriOffset;
            return makeError(lineMsg(1, "Request-URI: " + parsed.error().message), off);
        }
        m.requestUri_ = uri;
        m.requestUriParsed_ = *parsed;
    }

    m.headers_.reserve(kExpectedHeaders);
    std::size_t lineNo = 1;
    pos = l.next;
    HeaderField* current = nullptr;
    std::size_t valueStart = 0;
    std::size_t valueEnd = 0;
    auto closeCurrent = [&] {
        if (current != nullptr) {
            current->value = text::trimLws(d.substr(valueStart, valueEnd - valueStart));
        }
    };
    for (;;) {
        ++lineNo;
        if (pos >= d.size()) {
            return makeError(lineMsg(lineNo, "header section not terminated by an empty line"), d.size());
        }
        l = nextLine(d, pos);
        if (l.end - l.begin > limits.maxLineBytes) {
            return makeError(lineMsg(lineNo, "longer than " + std::to_string(limits.maxLineBytes) + " bytes"),
                             l.begin);
        }
        if (!l.terminated) {
            return makeError(lineMsg(lineNo, "header section not terminated by an empty line"), d.size());
        }
        if (l.end == l.begin) {
            closeCurrent();
            head.bodyStart = l.next;
            break;
        }
        if (text::isWsp(d[l.begin])) {
            // Folded continuation of the previous header line (RFC 3261 7.3.1).
            if (current == nullptr) return makeError(lineMsg(lineNo, "continuation line without a header"), l.begin);
            valueEnd = l.end;
            pos = l.next;
            continue;
        }
        closeCurrent();
        std::string_view content = d.substr(l.begin, l.end - l.begin);
        std::size_t colon = content.find(':');
        if (colon == std::string_view::npos) return makeError(lineMsg(lineNo, "header without ':'"), l.begin);
        std::string_view name = content.substr(0, colon);
        while (!name.empty() && text::isWsp(name.back())) name.remove_suffix(1);
        if (!text::isToken(name)) return makeError(lineMsg(lineNo, "invalid header name"), l.begin);
        if (m.headers_.size() >= limits.maxHeaderCount) {
            return makeError(lineMsg(lineNo, "more than " + std::to_string(limits.maxHeaderCount) + " header fields"),
                             l.begin);
        }
        HeaderField& h = m.headers_.emplace_back();
        h.id = headerIdFromName(name);
        h.name = name;
        current = &h;
        valueStart = l.begin + colon + 1;
        valueEnd = l.end;
        pos = l.next;
    }

    for (const auto& h : m.headers_) {
        if (h.id != HeaderId::ContentLength) continue;
        auto n = text::parseUint32(h.value);
        std::size_t off = static_cast<std::size_t>(h.value.data() - d.data());
        if (!n) return makeError("invalid Content-Length '" + std::string(h.value.substr(0, 32)) + "'", off);
        if (head.contentLength && *head.contentLength != *n) {
            return makeError("conflicting Content-Length values", off);
        }
        head.contentLength = *n;
    }
    return head;
}

Message MessageParser::finish(Head&& head, std::string_view data, std::size_t bodyLength) {
    Message m = std::move(head.message);
    const std::size_t end = head.bodyStart + bodyLength;
    m.size_ = end - head.start;
    m.buf_ = std::make_unique_for_overwrite<char[]>(m.size_ == 0 ? 1 : m.size_);
    std::memcpy(m.buf_.get(), data.data() + head.start, m.size_);
    const char* origin = data.data() + head.start;
    char* base = m.buf_.get();
    auto rebase = [origin, base](std::string_view& v) {
        if (v.data() == nullptr) return;
        v = std::string_view(base + (v.data() - origin), v.size());
    };
    rebase(m.method_);
    rebase(m.requestUri_);
    rebase(m.reason_);
    rebase(m.version_);
    Uri& u = m.requestUriParsed_;
    for (std::string_view* v : {&u.scheme, &u.user, &u.password, &u.host, &u.params, &u.headers, &u.opaque}) {
        rebase(*v);
    }
    for (auto& h : m.headers_) {
        rebase(h.name);
        rebase(h.value);
    }
    m.body_ = std::string_view(base + (head.bodyStart - head.start), bodyLength);
    return m;
}

Result<Message> parseDatagram(std::string_view datagram, const ParseLimits& limits) {
    if (datagram.size() > limits.maxMessageBytes) {
        return makeError("message larger than " + std::to_string(limits.maxMessageBytes) + " bytes",
                         limits.maxMessageBytes);
    }
    auto head = MessageParser::parseHead(datagram, limits);
    if (!head) return head.error();
    const std::size_t available = datagram.size() - head->bodyStart;
    std::size_t bodyLength = available;
    if (head->contentLength) {
        if (*head->contentLength > available) {
            return makeError("Content-Length " + std::to_string(*head->contentLength) + " exceeds the " +
                                 std::to_string(available) + " bytes after the headers",
                             head->bodyStart);
        }
        bodyLength = *head->contentLength;
    }
    return MessageParser::finish(std::move(*head), datagram, bodyLength);
}

}  // namespace sipreg::sip
