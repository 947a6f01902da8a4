#include "app/sip_log.h"

#include "auth/redaction.h"

namespace sipreg::app {
namespace {

bool startsWithNoCase(std::string_view s, std::string_view prefix) {
    if (s.size() < prefix.size()) return false;
    for (std::size_t i = 0; i < prefix.size(); ++i) {
        char a = s[i];
        if (a >= 'A' && a <= 'Z') a = static_cast<char>(a - 'A' + 'a');
        if (a != prefix[i]) return false;
    }
    return true;
}

// Header names (lower case) whose values carry digest responses.
bool isCredentialsHeader(std::string_view line, std::size_t& valueStart) {
    for (std::string_view name : {std::string_view("authorization"), std::string_view("proxy-authorization")}) {
        if (!startsWithNoCase(line, name)) continue;
        std::size_t i = name.size();
        while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
        if (i < line.size() && line[i] == ':') {
            valueStart = i + 1;
            return true;
        }
    }
    return false;
}

}  // namespace

std::string redactForLog(std::string_view message) {
    std::string out;
    out.reserve(message.size());
    std::size_t pos = 0;
    bool inHeaders = true;
    while (pos < message.size()) {
        std::size_t end = message.find('\n', pos);
        std::size_t next = end == std::string_view::npos ? message.size() : end + 1;
        std::string_view line = message.substr(pos, next - pos);
        std::size_t valueStart = 0;
        if (inHeaders && isCredentialsHeader(line, valueStart)) {
            // Folded continuation lines belong to the same value: take them too.
            while (next < message.size() && (message[next] == ' ' || message[next] == '\t')) {
                std::size_t e = message.find('\n', next);
                next = e == std::string_view::npos ? message.size() : e + 1;
            }
            std::string_view whole = message.substr(pos, next - pos);
            std::string_view value = whole.substr(valueStart);
            while (!value.empty() && (value.back() == '\n' || value.back() == '\r')) value.remove_suffix(1);
            out.append(whole.substr(0, valueStart));
            out += ' ';
            out += auth::redactAuthorization(value);
            out += "\r\n";
        } else {
            if (line == "\r\n" || line == "\n") inHeaders = false;
            out.append(line);
        }
        pos = next;
    }
    return out;
}

}  // namespace sipreg::app
