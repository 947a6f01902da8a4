#pragma once
// The head of an HTTP/1.1 response as the metrics server sends it: the connection always
// closes after one response, so every head says so and carries Content-Length.
#include <cstddef>
#include <string>
#include <string_view>

namespace sipreg::metrics {

struct ResponseHead {
    int status = 200;
    std::string_view contentType = "text/plain; charset=utf-8";
    std::size_t contentLength = 0;
    std::string_view allow;  // for 405: the methods that are allowed
};

std::string_view reasonPhrase(int status) noexcept;
std::string formatResponseHead(const ResponseHead& head);

}  // namespace sipreg::metrics
