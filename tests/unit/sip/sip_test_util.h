#pragma once
// Helpers for the SIP unit tests.
#include <doctest/doctest.h>

#include <string>
#include <string_view>

#include "sip/message.h"

namespace sipreg::sip::test {

// Builds wire bytes from readable lines: each element gets CRLF; pass "" for the empty line.
inline std::string crlf(std::initializer_list<std::string_view> lines) {
    std::string out;
    for (std::string_view l : lines) {
        out += l;
        out += "\r\n";
    }
    return out;
}

inline Message parseOk(std::string_view bytes) {
    auto r = parseDatagram(bytes);
    if (!r) FAIL_CHECK("unexpected parse error: " << r.error().message << " at " << r.error().offset);
    REQUIRE(r.ok());
    return std::move(r).value();
}

inline bool contains(std::string_view haystack, std::string_view needle) {
    return haystack.find(needle) != std::string_view::npos;
}

}  // namespace sipreg::sip::test
