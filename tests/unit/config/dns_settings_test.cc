// Global `dns:` settings: server address forms, their normal form, and the errors.
#include <doctest/doctest.h>

#include "config/loader.h"
#include "config_test_support.h"

using namespace std::chrono_literals;
using sipreg::config::LoadResult;
using sipreg::config::test::joined;
using sipreg::config::test::load;

namespace {

using Servers = std::vector<std::string>;

std::string onlyError(const LoadResult& result) {
    CHECK_FALSE(result.ok());
    REQUIRE_MESSAGE(result.errors.size() == 1, joined(result.errors));
    return result.errors[0].toString();
}

std::string withServers(const std::string& servers) { return "dns:\n  servers: " + servers + "\nlines: []\n"; }

}  // namespace

TEST_CASE("dns.servers: every accepted form is stored as ip:port or [ip6]:port") {
    const auto result = load(withServers(
        "[127.0.0.1, '127.0.0.2:5353', '::1', '[::2]', '[2001:DB8:0::53]:5300', '2001:db8::1:53']"));
    REQUIRE_MESSAGE(result.ok(), joined(result.errors));
    CHECK(result.config->global.dns.servers == Servers{"127.0.0.1:53", "127.0.0.2:5353", "[::1]:53", "[::2]:53",
                                                       "[2001:db8::53]:5300", "[2001:db8::1:53]:53"});
    CHECK(result.config->global.dns.timeout == 2s);
    CHECK(describe(result.config->global).find("dns.servers=127.0.0.1:53,127.0.0.2:5353,[::1]:53") != std::string::npos);
}

TEST_CASE("dns: a single server may be written without a list; timeout is a duration") {
    const auto result = load("dns: { servers: '10.0.0.53:5353', timeout: 5s }\nlines: []\n");
    REQUIRE_MESSAGE(result.ok(), joined(result.errors));
    CHECK(result.config->global.dns.servers == Servers{"10.0.0.53:5353"});
    CHECK(result.config->global.dns.timeout == 5s);

    const auto none = load("dns: { timeout: 1s }\nlines: []\n");
    REQUIRE_MESSAGE(none.ok(), joined(none.errors));
    CHECK(none.config->global.dns.servers.empty());
    CHECK(describe(none.config->global).find("dns.servers=system dns.timeout=1s") != std::string::npos);
}

TEST_CASE("dns.servers: names, bad ports and malformed brackets are refused at the entry") {
    const std::string expected = "; expected an IP address with an optional port, such as 127.0.0.1, "
                                 "127.0.0.1:5353, ::1 or [::1]:53";
    CHECK(onlyError(load(withServers("[127.0.0.1, localhost]"))) ==
          "test.yaml:2:24: dns.servers[1]: 'localhost' is not an IP address (a DNS server is given by address, not by "
          "name)" + expected);
    CHECK(onlyError(load(withServers("['ns1.example.net:53']"))) ==
          "test.yaml:2:13: dns.servers[0]: 'ns1.example.net:53' is not an IP address (a DNS server is given by "
          "address, not by name)" + expected);
    CHECK(onlyError(load(withServers("['127.0.0.1:0']"))) ==
          "test.yaml:2:13: dns.servers[0]: '127.0.0.1:0' port must be between 1 and 65535" + expected);
    CHECK(onlyError(load(withServers("['[::1]:65536']"))) ==
          "test.yaml:2:13: dns.servers[0]: '[::1]:65536' port must be between 1 and 65535" + expected);
    CHECK(onlyError(load(withServers("['127.0.0.1:5x']"))) ==
          "test.yaml:2:13: dns.servers[0]: '127.0.0.1:5x' port must be between 1 and 65535" + expected);
    CHECK(onlyError(load(withServers("['127.0.0.1:']"))) ==
          "test.yaml:2:13: dns.servers[0]: '127.0.0.1:' has an empty port" + expected);
    CHECK(onlyError(load(withServers("['[::1']"))) ==
          "test.yaml:2:13: dns.servers[0]: '[::1' has '[' without ']'" + expected);
    CHECK(onlyError(load(withServers("['[::1]53']"))) ==
          "test.yaml:2:13: dns.servers[0]: '[::1]53' expected ':port' after ']'" + expected);
    CHECK(onlyError(load(withServers("['[127.0.0.1]:53']"))) ==
          "test.yaml:2:13: dns.servers[0]: '[127.0.0.1]:53' is not an IP address (a DNS server is given by address, "
          "not by name)" + expected);
}

TEST_CASE("dns: duplicates, empty lists, wrong shapes and unknown keys") {
    CHECK(onlyError(load(withServers("['127.0.0.1', '127.0.0.1:53']"))) ==
          "test.yaml:2:26: dns.servers[1]: duplicate DNS server 127.0.0.1:53");
    CHECK(onlyError(load(withServers("[]"))) ==
          "test.yaml:2:12: dns.servers: must list at least one server (leave dns.servers out to use the system "
          "resolver's)");
    CHECK(onlyError(load(withServers("{ a: 1 }"))) == "test.yaml:2:12: dns.servers: expected a string, got a map");
    CHECK(onlyError(load("dns: 127.0.0.1\nlines: []\n")) ==
          "test.yaml:1:6: dns: expected a map with servers and timeout, got '127.0.0.1'");
    CHECK(onlyError(load("dns: { server: [127.0.0.1] }\nlines: []\n")) ==
          "test.yaml:1:8: dns.server: unknown key 'server'; did you mean 'servers'?");
    CHECK(onlyError(load("dns: { timeout: 0s }\nlines: []\n")) ==
          "test.yaml:1:17: dns.timeout: must be between 1s and 30s (got 0s)");
    std::string many = "[";
    for (int i = 1; i <= 17; ++i) many += (i > 1 ? ", " : "") + std::string("127.0.0.") + std::to_string(i);
    CHECK(onlyError(load(withServers(many + "]"))) == "test.yaml:2:12: dns.servers: must list at most 16 servers");
}
