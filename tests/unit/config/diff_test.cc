#include <doctest/doctest.h>

#include "config/diff.h"
#include "config/loader.h"
#include "config_test_support.h"

using sipreg::config::Config;
using sipreg::config::diffConfigs;
using sipreg::config::test::Env;
using sipreg::config::test::joined;
using sipreg::config::test::load;

namespace {

using Ids = std::vector<std::string>;

Config mustLoad(const std::string& yaml, Env env = {}) {
    auto result = load(yaml, std::move(env));
    REQUIRE_MESSAGE(result.ok(), joined(result.errors));
    return std::move(*result.config);
}

const std::string kBase =
    "lines:\n"
    "  - { id: a, aor: 'sip:a@example.net' }\n"
    "  - { id: b, aor: 'sip:b@example.net', auth: { password_env: B_PW } }\n"
    "  - { id: c, aor: 'sip:c@example.net' }\n";

}  // namespace

TEST_CASE("identical configs: everything unchanged, in file order") {
    const Config before = mustLoad(kBase, {{"B_PW", "x"}});
    const Config after = mustLoad(kBase, {{"B_PW", "x"}});
    const auto diff = diffConfigs(before, after);
    CHECK(diff.unchanged == Ids{"a", "b", "c"});
    CHECK(diff.added.empty());
    CHECK(diff.removed.empty());
    CHECK(diff.changed.empty());
    CHECK_FALSE(diff.globalChanged);
    CHECK(diff.empty());
}

TEST_CASE("added, removed, changed and unchanged lines by id") {
    const Config before = mustLoad(kBase, {{"B_PW", "x"}});
    const Config after = mustLoad(
        "lines:\n"
        "  - { id: d, aor: 'sip:d@example.net' }\n"
        "  - { id: c, aor: 'sip:c@example.net', expires: 600 }\n"
        "  - { id: b, aor: 'sip:b@example.net', auth: { password_env: B_PW } }\n"
        "  - { id: e, aor: 'sip:e@example.net' }\n",
        {{"B_PW", "x"}});
    const auto diff = diffConfigs(before, after);
    CHECK(diff.added == Ids{"d", "e"});
    CHECK(diff.removed == Ids{"a"});
    CHECK(diff.changed == Ids{"c"});
    CHECK(diff.unchanged == Ids{"b"});
    CHECK_FALSE(diff.globalChanged);
    CHECK_FALSE(diff.empty());
}

TEST_CASE("a rotated secret changes the line even though the file text is the same") {
    const Config before = mustLoad(kBase, {{"B_PW", "old"}});
    const Config after = mustLoad(kBase, {{"B_PW", "new"}});
    const auto diff = diffConfigs(before, after);
    CHECK(diff.changed == Ids{"b"});
    CHECK(diff.unchanged == Ids{"a", "c"});
}

TEST_CASE("a changed default changes every line that inherits it") {
    const Config before = mustLoad(kBase, {{"B_PW", "x"}});
    const Config after = mustLoad("defaults: { user_agent: other }\n" + kBase, {{"B_PW", "x"}});
    const auto diff = diffConfigs(before, after);
    CHECK(diff.changed == Ids{"a", "b", "c"});
    CHECK_FALSE(diff.globalChanged);
}

TEST_CASE("global settings changes are flagged separately; moving a line is not a change") {
    const Config before = mustLoad(kBase, {{"B_PW", "x"}});
    const Config after = mustLoad(
        "max_rate: 10\n"
        "lines:\n"
        "  - { id: c, aor: 'sip:c@example.net' }\n"
        "  - { id: a, aor: 'sip:a@example.net' }\n"
        "  - { id: b, aor: 'sip:b@example.net', auth: { password_env: B_PW } }\n",
        {{"B_PW", "x"}});
    const auto diff = diffConfigs(before, after);
    CHECK(diff.globalChanged);
    CHECK(diff.unchanged == Ids{"c", "a", "b"});
    CHECK(diff.changed.empty());
    CHECK_FALSE(diff.empty());
}

TEST_CASE("a changed tls block changes the lines it applies to, inherited or not") {
    const std::string lines =
        "lines:\n"
        "  - { id: a, aor: 'sips:a@example.net' }\n"
        "  - { id: b, aor: 'sips:b@example.net', tls: { server_name: b.example.net } }\n";
    const Config before = mustLoad(lines);
    CHECK(diffConfigs(before, mustLoad(lines)).empty());

    auto diff = diffConfigs(before, mustLoad("defaults: { tls: { verify: false } }\n" + lines));
    CHECK(diff.changed == Ids{"a", "b"});
    CHECK_FALSE(diff.globalChanged);

    diff = diffConfigs(before, mustLoad(
        "lines:\n"
        "  - { id: a, aor: 'sips:a@example.net' }\n"
        "  - { id: b, aor: 'sips:b@example.net', tls: { server_name: b2.example.net } }\n"));
    CHECK(diff.changed == Ids{"b"});
    CHECK(diff.unchanged == Ids{"a"});
}

TEST_CASE("a transport left to DNS and the same transport written down are different lines") {
    const Config before = mustLoad("lines:\n  - { id: a, aor: 'sip:a@example.net' }\n");
    const auto diff = diffConfigs(before, mustLoad("lines:\n  - { id: a, aor: 'sip:a@example.net', transport: udp }\n"));
    CHECK(diff.changed == Ids{"a"});
}

TEST_CASE("dns changes are global changes and leave the lines alone") {
    const Config before = mustLoad(kBase, {{"B_PW", "x"}});
    auto diff = diffConfigs(before, mustLoad("dns: { servers: ['127.0.0.1:5353'] }\n" + kBase, {{"B_PW", "x"}}));
    CHECK(diff.globalChanged);
    CHECK(diff.unchanged == Ids{"a", "b", "c"});

    const Config withDns = mustLoad("dns: { servers: ['127.0.0.1:5353'] }\n" + kBase, {{"B_PW", "x"}});
    CHECK_FALSE(diffConfigs(withDns, mustLoad("dns: { servers: ['127.0.0.1:5353'] }\n" + kBase, {{"B_PW", "x"}}))
                    .globalChanged);
    CHECK(diffConfigs(withDns, mustLoad("dns: { servers: ['127.0.0.1:5353'], timeout: 3s }\n" + kBase, {{"B_PW", "x"}}))
              .globalChanged);
    CHECK(diffConfigs(withDns, mustLoad("dns: { servers: ['[::1]:5353'] }\n" + kBase, {{"B_PW", "x"}})).globalChanged);
}
