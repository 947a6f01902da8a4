#include <doctest/doctest.h>

#include <array>

#include "config/key_suggestion.h"

using sipreg::config::editDistance;
using sipreg::config::suggestClosest;

TEST_CASE("edit distance counts typing mistakes, ignoring case") {
    CHECK(editDistance("expires", "expires") == 0);
    CHECK(editDistance("expire", "expires") == 1);
    CHECK(editDistance("exipres", "expires") == 1);  // adjacent swap
    CHECK(editDistance("EXPIRES", "expires") == 0);
    CHECK(editDistance("", "abc") == 3);
    CHECK(editDistance("kitten", "sitting") == 3);
}

TEST_CASE("suggestions only for plausible typos") {
    constexpr std::array<std::string_view, 4> keys{"expires", "user_agent", "password_file", "realm"};
    CHECK(suggestClosest("expirse", keys) == std::optional<std::string_view>("expires"));
    CHECK(suggestClosest("useragent", keys) == std::optional<std::string_view>("user_agent"));
    CHECK(suggestClosest("passwordfile", keys) == std::optional<std::string_view>("password_file"));
    CHECK(suggestClosest("realms", keys) == std::optional<std::string_view>("realm"));
    CHECK_FALSE(suggestClosest("colour", keys).has_value());
    CHECK_FALSE(suggestClosest("x", keys).has_value());
}
