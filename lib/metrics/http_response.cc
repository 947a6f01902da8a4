#include "metrics/http_response.h"

#include <ctime>

namespace sipreg::metrics {

std::string_view reasonPhrase(int status) noexcept {
    switch (status) {
        case 200: return "OK";
        case 400: return "Bad Request";
        case 404: return "Not Found";
        case 405: return "Method Not Allowed";
        case 408: return "Request Timeout";
        case 431: return "Request Header Fields Too Large";
        case 500: return "Internal Server Error";
        case 503: return "Service Unavailable";
        default: return "Unknown";
    }
}

namespace {

// RFC 9110 IMF-fixdate, e.g. "Sun, 06 Nov 1994 08:49:37 GMT".
std::string httpDate() {
    const std::time_t now = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&now, &tm);
    char buf[40];
    const std::size_t n = std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    return std::string(buf, n);
}

}  // namespace

std::string formatResponseHead(const ResponseHead& head) {
    std::string s;
    s.reserve(200);
    s += "HTTP/1.1 ";
    s += std::to_string(head.status);
    s += ' ';
    s += reasonPhrase(head.status);
    s += "\r\nDate: ";
    s += httpDate();
    s += "\r\nContent-Type: ";
    s += head.contentType;
    s += "\r\nContent-Length: ";
    s += std::to_string(head.contentLength);
    if (!head.allow.empty()) {
        s += "\r\nAllow: ";
        s += head.allow;
    }
    s += "\r\nConnection: close\r\n\r\n";
    return s;
}

}  // namespace sipreg::metrics
