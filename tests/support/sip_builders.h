#pragma once
// Building SIP messages in tests from text: requests as a peer would send them, and
// responses to the requests our code sent, parsed with the real parser.
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "sip/message.h"

namespace sipreg::test {

// "\n" line ends become CRLF (so tests can write plain text); throws on a parse error, which
// fails the calling test with the parser's message.
inline sip::Message parseSip(std::string_view text) {
    std::string crlf;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '\n' && (i == 0 || text[i - 1] != '\r')) crlf.push_back('\r');
        crlf.push_back(text[i]);
    }
    auto m = sip::parseDatagram(crlf);
    if (!m) throw std::runtime_error("test message does not parse: " + m.error().message);
    return std::move(m).value();
}

struct ResponseSpec {
    int code = 200;
    std::string reason = "OK";
    std::vector<std::string> headers;  // extra header lines, "Name: value"
    // Replaces the first ";rport" of the top Via, e.g. ";received=203.0.113.7;rport=40000".
    std::string viaRport;
    std::string toTag = "srv1";
};

// The text of a response to `request` (bytes as sent): Via, From, To (+tag), Call-ID and
// CSeq copied as a registrar would, then the extra headers.
inline std::string responseText(std::string_view request, const ResponseSpec& spec) {
    const sip::Message req = parseSip(request);
    std::string out = "SIP/2.0 " + std::to_string(spec.code) + " " + spec.reason + "\r\n";
    bool firstVia = true;
    for (const auto& h : req.headers()) {
        std::string value(h.value);
        switch (h.id) {
            case sip::HeaderId::Via:
                if (firstVia && !spec.viaRport.empty()) {
                    auto pos = value.find(";rport");
                    if (pos != std::string::npos) value.replace(pos, 6, spec.viaRport);
                }
                firstVia = false;
                break;
            case sip::HeaderId::To:
                if (!spec.toTag.empty() && value.find(";tag=") == std::string::npos)
                    value += ";tag=" + spec.toTag;
                break;
            case sip::HeaderId::From:
            case sip::HeaderId::CallId:
            case sip::HeaderId::CSeq:
                break;
            default:
                continue;
        }
        out.append(std::string(h.name)).append(": ").append(value).append("\r\n");
    }
    for (const auto& line : spec.headers) out.append(line).append("\r\n");
    out.append("Content-Length: 0\r\n\r\n");
    return out;
}

inline sip::Message response(std::string_view request, const ResponseSpec& spec) {
    return parseSip(responseText(request, spec));
}

}  // namespace sipreg::test
