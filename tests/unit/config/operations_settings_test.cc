// Global `control:`, `metrics:` and `on_change:` settings: accepted forms, defaults, errors
// with their positions, and how they show in describe() and in a reload diff.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "config/diff.h"
#include "config/loader.h"
#include "config_test_support.h"

using namespace std::chrono_literals;
using sipreg::config::Config;
using sipreg::config::ControlSettings;
using sipreg::config::diffConfigs;
using sipreg::config::GlobalSettings;
using sipreg::config::ListenAddress;
using sipreg::config::loadConfigFile;
using sipreg::config::loadConfigString;
using sipreg::config::LoadResult;
using sipreg::config::test::joined;
using sipreg::config::test::load;
using sipreg::config::test::TempDir;
using sipreg::config::test::withEnv;

namespace {

using Argv = std::vector<std::string>;

std::string onlyError(const LoadResult& result) {
    CHECK_FALSE(result.ok());
    REQUIRE_MESSAGE(result.errors.size() == 1, joined(result.errors));
    return result.errors[0].toString();
}

std::string onlyWarning(const LoadResult& result) {
    REQUIRE_MESSAGE(result.ok(), joined(result.errors));
    REQUIRE_MESSAGE(result.warnings.size() == 1, joined(result.warnings));
    return result.warnings[0].toString();
}

GlobalSettings mustLoadGlobal(const std::string& yaml) {
    const auto result = load(yaml);
    REQUIRE_MESSAGE(result.ok(), joined(result.errors));
    CHECK_MESSAGE(result.warnings.empty(), joined(result.warnings));
    return result.config->global;
}

std::string withControl(const std::string& block) { return "control: " + block + "\nlines: [{ id: a, aor: 'sip:a@example.net' }]\n"; }
std::string withMetrics(const std::string& listen) { return "metrics:\n  listen: " + listen + "\nlines: [{ id: a, aor: 'sip:a@example.net' }]\n"; }
std::string withOnChange(const std::string& block) { return "on_change: " + block + "\nlines: [{ id: a, aor: 'sip:a@example.net' }]\n"; }

}  // namespace

TEST_CASE("without the keys: default control socket, metrics and on_change off") {
    const GlobalSettings g = mustLoadGlobal("lines: [{ id: a, aor: 'sip:a@example.net' }]\n");
    CHECK(g.control.socket == "/run/sipregd/control.sock");
    CHECK_FALSE(g.control.socketGiven);
    CHECK(g.control.mode == 0660u);
    CHECK_FALSE(g.metrics.listen.has_value());
    CHECK(g.onChange.command.empty());
    CHECK(g.onChange.timeout == 10s);
    CHECK(describe(g).find(" control.socket=/run/sipregd/control.sock control.mode=0660 metrics.listen=off "
                           "on_change=off") != std::string::npos);
}

TEST_CASE("control.socket: absolute as written; relative against the config file's folder") {
    GlobalSettings g = mustLoadGlobal(withControl("{ socket: /run/other/ctl.sock }"));
    CHECK(g.control.socket == "/run/other/ctl.sock");
    CHECK(g.control.socketGiven);
    CHECK(g.control.mode == 0660u);

    // Writing the default path still counts as given.
    CHECK(mustLoadGlobal(withControl("{ socket: /run/sipregd/control.sock }")).control.socketGiven);
    // A block without socket keeps the default and does not count as given.
    g = mustLoadGlobal(withControl("{ mode: '0600' }"));
    CHECK(g.control.socket == "/run/sipregd/control.sock");
    CHECK_FALSE(g.control.socketGiven);

    const auto fromString = loadConfigString(withControl("{ socket: run/ctl.sock }"), "test.yaml",
                                             withEnv({}, "/etc/sipregd"));
    REQUIRE_MESSAGE(fromString.ok(), joined(fromString.errors));
    CHECK(fromString.config->global.control.socket == "/etc/sipregd/run/ctl.sock");

    TempDir dir;
    const std::string file = dir.write("sipregd.yaml", withControl("{ socket: control.sock }"));
    const auto fromFile = loadConfigFile(file, withEnv({}));
    REQUIRE_MESSAGE(fromFile.ok(), joined(fromFile.errors));
    CHECK(fromFile.config->global.control.socket == dir.path() + "/control.sock");
    CHECK(fromFile.config->global.control.socketGiven);
}

TEST_CASE("control.socket: 107 bytes fit a Unix socket address, 108 do not") {
    const std::string fits = "/" + std::string(106, 's');
    CHECK(mustLoadGlobal(withControl("{ socket: " + fits + " }")).control.socket == fits);
    const std::string tooLong = "/" + std::string(107, 's');
    CHECK(onlyError(load(withControl("{ socket: " + tooLong + " }"))) ==
          "test.yaml:1:20: control.socket: '" + tooLong +
              "' is 108 bytes long; a Unix socket path may be at most 107 bytes");

    // The limit applies to the path after resolving it against the config's folder.
    const std::string relative(100, 'r');
    const auto result = loadConfigString(withControl("{ socket: " + relative + " }"), "test.yaml",
                                         withEnv({}, "/etc/sipregd"));
    CHECK(onlyError(result) == "test.yaml:1:20: control.socket: '/etc/sipregd/" + relative +
                                   "' is 113 bytes long; a Unix socket path may be at most 107 bytes (a relative "
                                   "path is taken from the config file's folder)");
}

TEST_CASE("control.socket: empty values, folders, NUL bytes and non-strings are refused") {
    CHECK(onlyError(load(withControl("{ socket: '' }"))) == "test.yaml:1:20: control.socket: must not be empty");
    CHECK(onlyError(load(withControl("{ socket: /run/sipregd/ }"))) ==
          "test.yaml:1:20: control.socket: '/run/sipregd/' names a folder; give the socket's own name, such as "
          "/run/sipregd/control.sock");
    CHECK(onlyError(load(withControl("{ socket: \"/run/a\\0b\" }"))) ==
          "test.yaml:1:20: control.socket: must not contain a NUL byte");
    CHECK(onlyError(load(withControl("{ socket: [/run/a] }"))) ==
          "test.yaml:1:20: control.socket: expected a string, got a list");
    CHECK(onlyError(load(withControl("/run/sipregd/control.sock"))) ==
          "test.yaml:1:10: control: expected a map with socket and mode, got '/run/sipregd/control.sock'");
    CHECK(onlyError(load(withControl("{ sock: /run/a.sock }"))) ==
          "test.yaml:1:12: control.sock: unknown key 'sock'; did you mean 'socket'?");
}

TEST_CASE("control.mode: quoted or plain, with or without the leading 0, is octal") {
    struct Case {
        const char* written;
        uint32_t mode;
    };
    const Case cases[] = {{"'0660'", 0660}, {"\"660\"", 0660}, {"0660", 0660}, {"660", 0660}, {"0600", 0600},
                          {"600", 0600},    {"0o640", 0640},   {"'0770'", 0770}, {"0", 0},     {"0777", 0777},
                          {"432", 0432}};  // never decimal: 432 is not 0660
    for (const Case& c : cases) {
        CAPTURE(c.written);
        const auto result = load(withControl(std::string("{ mode: ") + c.written + " }"));
        REQUIRE_MESSAGE(result.ok(), joined(result.errors));
        CHECK(result.config->global.control.mode == c.mode);
    }
    CHECK(describe(mustLoadGlobal(withControl("{ mode: 600 }"))).find(" control.mode=0600 ") != std::string::npos);
}

TEST_CASE("control.mode: non-octal digits, special bits and non-scalars are refused") {
    const std::string expected = "expected an octal permission mode such as \"0660\" or \"0600\"";
    CHECK(onlyError(load(withControl("{ mode: '0668' }"))) ==
          "test.yaml:1:18: control.mode: " + expected + ", got '0668'");
    CHECK(onlyError(load(withControl("{ mode: rw-rw---- }"))) ==
          "test.yaml:1:18: control.mode: " + expected + ", got 'rw-rw----'");
    CHECK(onlyError(load(withControl("{ mode: '' }"))) == "test.yaml:1:18: control.mode: " + expected + ", got ''");
    CHECK(onlyError(load(withControl("{ mode: 0o }"))) == "test.yaml:1:18: control.mode: " + expected + ", got '0o'");
    CHECK(onlyError(load(withControl("{ mode: [0660] }"))) ==
          "test.yaml:1:18: control.mode: " + expected + ", got a list");
    CHECK(onlyError(load(withControl("{ mode: '4755' }"))) ==
          "test.yaml:1:18: control.mode: '4755' sets more than permission bits; expected at most 0777 (such as 0660)");
    CHECK(onlyError(load(withControl("{ mode: 01777 }"))) ==
          "test.yaml:1:18: control.mode: '01777' sets more than permission bits; expected at most 0777 (such as 0660)");
    CHECK(onlyError(load(withControl("{ mode: 77777777777777777777 }"))) ==
          "test.yaml:1:18: control.mode: '77777777777777777777' sets more than permission bits; expected at most 0777 "
          "(such as 0660)");
}

TEST_CASE("control.mode: a socket every local user may connect to gets a warning") {
    const auto result = load(withControl("{ mode: '0666' }"));
    CHECK(onlyWarning(result) ==
          "test.yaml:1:18: control.mode: mode 0666 lets every local user control sipregd (reload, refresh, trace); "
          "0660 with a shared group is usually enough");
    CHECK(result.config->global.control.mode == 0666u);
    CHECK(load(withControl("{ mode: '0664' }")).warnings.empty());
}

TEST_CASE("metrics.listen: IPv4 and bracketed IPv6 with a port, stored without brackets") {
    struct Case {
        const char* written;
        ListenAddress stored;
        const char* described;
    };
    const Case cases[] = {
        {"'127.0.0.1:9560'", {"127.0.0.1", 9560, false}, "127.0.0.1:9560"},
        {"0.0.0.0:9560", {"0.0.0.0", 9560, false}, "0.0.0.0:9560"},
        {"'[::1]:9560'", {"::1", 9560, true}, "[::1]:9560"},
        {"'[::]:1'", {"::", 1, true}, "[::]:1"},
        {"'[2001:DB8:0::1]:65535'", {"2001:db8::1", 65535, true}, "[2001:db8::1]:65535"},
    };
    for (const Case& c : cases) {
        CAPTURE(c.written);
        const GlobalSettings g = mustLoadGlobal(withMetrics(c.written));
        REQUIRE(g.metrics.listen.has_value());
        CHECK(*g.metrics.listen == c.stored);
        CHECK(describe(g).find(std::string(" metrics.listen=") + c.described + " ") != std::string::npos);
    }
}

TEST_CASE("metrics.listen: names, missing or bad ports and malformed brackets are refused") {
    const std::string expected = "; expected an IP address and a port, such as 127.0.0.1:9560, 0.0.0.0:9560 or "
                                 "[::1]:9560";
    CHECK(onlyError(load(withMetrics("127.0.0.1"))) ==
          "test.yaml:2:11: metrics.listen: '127.0.0.1' has no port" + expected);
    CHECK(onlyError(load(withMetrics("'::1'"))) ==
          "test.yaml:2:11: metrics.listen: '::1' has no port (an IPv6 address with a port goes in brackets)" +
              expected);
    CHECK(onlyError(load(withMetrics("'::1:9560'"))) ==
          "test.yaml:2:11: metrics.listen: '::1:9560' has no port (an IPv6 address with a port goes in brackets)" +
              expected);
    CHECK(onlyError(load(withMetrics("'[::1]'"))) ==
          "test.yaml:2:11: metrics.listen: '[::1]' has no port (an IPv6 address with a port goes in brackets)" +
              expected);
    CHECK(onlyError(load(withMetrics("127.0.0.1:0"))) ==
          "test.yaml:2:11: metrics.listen: '127.0.0.1:0' port must be between 1 and 65535" + expected);
    CHECK(onlyError(load(withMetrics("'[::1]:65536'"))) ==
          "test.yaml:2:11: metrics.listen: '[::1]:65536' port must be between 1 and 65535" + expected);
    CHECK(onlyError(load(withMetrics("'127.0.0.1:'"))) ==
          "test.yaml:2:11: metrics.listen: '127.0.0.1:' has an empty port" + expected);
    CHECK(onlyError(load(withMetrics("localhost:9560"))) ==
          "test.yaml:2:11: metrics.listen: 'localhost:9560' is not an IP address (the endpoint listens on an "
          "address, not a name)" + expected);
    CHECK(onlyError(load(withMetrics("'[127.0.0.1]:9560'"))) ==
          "test.yaml:2:11: metrics.listen: '[127.0.0.1]:9560' is not an IP address (the endpoint listens on an "
          "address, not a name)" + expected);
    CHECK(onlyError(load(withMetrics("'[::1'"))) ==
          "test.yaml:2:11: metrics.listen: '[::1' has '[' without ']'" + expected);
    CHECK(onlyError(load(withMetrics("'[::1]9560'"))) ==
          "test.yaml:2:11: metrics.listen: '[::1]9560' expected ':port' after ']'" + expected);
    CHECK(onlyError(load(withMetrics("\"127.0.0.1\\0:9560\""))) ==
          "test.yaml:2:11: metrics.listen: '127.0.0.1" + std::string(1, '\0') +
              ":9560' is not an IP address (the endpoint listens on an address, not a name)" + expected);
}

TEST_CASE("metrics: shape errors") {
    CHECK(onlyError(load(withMetrics("''"))) == "test.yaml:2:11: metrics.listen: must not be empty");
    CHECK(onlyError(load(withMetrics("['127.0.0.1:9560']"))) ==
          "test.yaml:2:11: metrics.listen: expected a string, got a list");
    CHECK(onlyError(load("metrics: {}\nlines: [{ id: a, aor: 'sip:a@example.net' }]\n")) ==
          "test.yaml:1:10: metrics: missing required key 'listen' (the address and port to serve /metrics on, such "
          "as 127.0.0.1:9560)");
    CHECK(onlyError(load("metrics: 127.0.0.1:9560\nlines: [{ id: a, aor: 'sip:a@example.net' }]\n")) ==
          "test.yaml:1:10: metrics: expected a map with listen, got '127.0.0.1:9560'");
    const auto unknownKey = load("metrics: { address: 127.0.0.1:9560 }\nlines: [{ id: a, aor: 'sip:a@example.net' }]\n");
    CHECK(sipreg::config::test::issueTexts(unknownKey.errors) ==
          std::vector<std::string>{"test.yaml:1:12: metrics.address: unknown key 'address' (expected listen)",
                                   "test.yaml:1:10: metrics: missing required key 'listen' (the address and port to "
                                   "serve /metrics on, such as 127.0.0.1:9560)"});
    CHECK(onlyError(load("metric: { listen: 127.0.0.1:9560 }\nlines: [{ id: a, aor: 'sip:a@example.net' }]\n")) ==
          "test.yaml:1:1: metric: unknown key 'metric'; did you mean 'metrics'?");
}

TEST_CASE("on_change.command: a list is the argv; one word alone is a one-item list") {
    GlobalSettings g =
        mustLoadGlobal(withOnChange("{ command: [/bin/true, --flag, '', 'two words'], timeout: 30s }"));
    CHECK(g.onChange.command == Argv{"/bin/true", "--flag", "", "two words"});
    CHECK(g.onChange.timeout == 30s);
    CHECK(describe(g).find(" on_change=/bin/true --flag \"\" \"two words\" on_change.timeout=30s") !=
          std::string::npos);

    g = mustLoadGlobal(withOnChange("{ command: /bin/true }"));
    CHECK(g.onChange.command == Argv{"/bin/true"});
    CHECK(g.onChange.timeout == 10s);

    g = mustLoadGlobal("on_change:\n  command:\n    - /bin/true\n    - a\n  timeout: 5m\nlines: [{ id: a, aor: 'sip:a@example.net' }]\n");
    CHECK(g.onChange.command == Argv{"/bin/true", "a"});
    CHECK(g.onChange.timeout == 300s);
    CHECK(mustLoadGlobal(withOnChange("{ command: /bin/true, timeout: 1 }")).onChange.timeout == 1s);
}

TEST_CASE("on_change.command: a string with spaces is not split; the error shows the list form") {
    CHECK(onlyError(load(withOnChange("{ command: '/usr/local/bin/notify --flag  x' }"))) ==
          "test.yaml:1:23: on_change.command: '/usr/local/bin/notify --flag  x' is run without a shell, so it is not "
          "split into arguments; write the program and each argument as a list item: "
          "[\"/usr/local/bin/notify\", \"--flag\", \"x\"]");
}

TEST_CASE("on_change.command: the program needs an absolute path") {
    CHECK(onlyError(load(withOnChange("{ command: notify }"))) ==
          "test.yaml:1:23: on_change.command: 'notify' is not an absolute path; the command runs without a shell or "
          "PATH search, so give the program's full path, such as /usr/local/bin/notify");
    CHECK(onlyError(load(withOnChange("{ command: [bin/notify, x] }"))) ==
          "test.yaml:1:24: on_change.command[0]: 'bin/notify' is not an absolute path; the command runs without a "
          "shell or PATH search, so give the program's full path, such as /usr/local/bin/notify");
}

TEST_CASE("on_change.command: empty lists, empty programs, non-strings and NUL bytes are refused") {
    CHECK(onlyError(load(withOnChange("{ command: [] }"))) ==
          "test.yaml:1:23: on_change.command: must list at least the program to run (leave on_change out to run "
          "nothing)");
    CHECK(onlyError(load(withOnChange("{ command: ['', x] }"))) ==
          "test.yaml:1:24: on_change.command[0]: must not be empty");
    CHECK(onlyError(load(withOnChange("{ command: '' }"))) == "test.yaml:1:23: on_change.command: must not be empty");
    CHECK(onlyError(load(withOnChange("{ command: [/bin/true, { a: 1 }] }"))) ==
          "test.yaml:1:35: on_change.command[1]: expected a string, got a map");
    CHECK(onlyError(load(withOnChange("{ command: { program: /bin/true } }"))) ==
          "test.yaml:1:23: on_change.command: expected a list: the program's absolute path, then its arguments, got "
          "a map");
    CHECK(onlyError(load(withOnChange("{ command: [/bin/true, \"a\\0b\"] }"))) ==
          "test.yaml:1:35: on_change.command[1]: must not contain a NUL byte");

    std::string many = "[/bin/true";
    for (int i = 1; i < 65; ++i) many += ", a";
    CHECK(onlyError(load(withOnChange("{ command: " + many + "] }"))) ==
          "test.yaml:1:23: on_change.command: must list at most 64 items (the program included)");
    std::string most = "[/bin/true";
    for (int i = 1; i < 64; ++i) most += ", a";
    CHECK(mustLoadGlobal(withOnChange("{ command: " + most + "] }")).onChange.command.size() == 64);

    const std::string longArg(4097, 'x');
    CHECK(onlyError(load(withOnChange("{ command: [/bin/true, " + longArg + "] }"))) ==
          "test.yaml:1:35: on_change.command[1]: must be at most 4096 bytes long");
    CHECK(mustLoadGlobal(withOnChange("{ command: [/bin/true, " + longArg.substr(1) + "] }")).onChange.command[1].size() ==
          4096);
}

TEST_CASE("on_change: timeout range, missing command and shape errors") {
    CHECK(onlyError(load(withOnChange("{ command: /bin/true, timeout: 0s }"))) ==
          "test.yaml:1:43: on_change.timeout: must be between 1s and 5m (got 0s)");
    CHECK(onlyError(load(withOnChange("{ command: /bin/true, timeout: 301 }"))) ==
          "test.yaml:1:43: on_change.timeout: must be between 1s and 5m (got 301)");
    CHECK(onlyError(load(withOnChange("{ timeout: 5s }"))) ==
          "test.yaml:1:12: on_change: missing required key 'command' (the program to run and its arguments, such as "
          "[/usr/local/bin/notify, --flag])");
    CHECK(onlyError(load(withOnChange("/bin/true"))) ==
          "test.yaml:1:12: on_change: expected a map with command and timeout, got '/bin/true'");
    CHECK(onlyError(load(withOnChange("{ command: /bin/true, timout: 5s }"))) ==
          "test.yaml:1:34: on_change.timout: unknown key 'timout'; did you mean 'timeout'?");
}

TEST_CASE("on_change.command: a program that cannot be run now is a warning, not an error") {
    auto result = load(withOnChange("{ command: [/nonexistent/notify, x] }"));
    CHECK(onlyWarning(result) ==
          "test.yaml:1:24: on_change.command[0]: cannot run '/nonexistent/notify': No such file or directory");
    CHECK(result.config->global.onChange.command == Argv{"/nonexistent/notify", "x"});

    TempDir dir;
    result = load(withOnChange("{ command: " + dir.path() + " }"));
    CHECK(onlyWarning(result) == "test.yaml:1:23: on_change.command: cannot run '" + dir.path() +
                                     "': not a regular file");

    // No x bit at all: refused even for root, which passes access(X_OK) when any x bit is set.
    const std::string script = dir.write("notify", "#!/bin/sh\n", 0644);
    result = load(withOnChange("{ command: " + script + " }"));
    CHECK(onlyWarning(result) == "test.yaml:1:23: on_change.command: cannot run '" + script +
                                     "': Permission denied");
    const std::string runnable = dir.write("notify-x", "#!/bin/sh\n", 0755);
    CHECK(mustLoadGlobal(withOnChange("{ command: " + runnable + " }")).onChange.command == Argv{runnable});
}

TEST_CASE("control, metrics and on_change changes are global changes and leave the lines alone") {
    const std::string lines = "lines:\n  - { id: a, aor: 'sip:a@example.net' }\n";
    auto mustLoad = [](const std::string& yaml) {
        auto result = load(yaml);
        REQUIRE_MESSAGE(result.ok(), joined(result.errors));
        return std::move(*result.config);
    };
    const Config before = mustLoad(lines);
    const std::vector<std::string> changes = {
        "control: { socket: /run/other.sock }\n",
        "control: { mode: '0600' }\n",
        "control: { socket: /run/sipregd/control.sock }\n",  // the same path, but now written down
        "metrics: { listen: '127.0.0.1:9560' }\n",
        "on_change: { command: [/bin/true] }\n",
    };
    for (const std::string& change : changes) {
        CAPTURE(change);
        const auto diff = diffConfigs(before, mustLoad(change + lines));
        CHECK(diff.globalChanged);
        CHECK(diff.unchanged == std::vector<std::string>{"a"});
        CHECK(diff.changed.empty());
    }
    const Config withAll =
        mustLoad("metrics: { listen: '127.0.0.1:9560' }\non_change: { command: [/bin/true], timeout: 5s }\n" + lines);
    CHECK_FALSE(diffConfigs(withAll, mustLoad("metrics: { listen: '127.0.0.1:9560' }\non_change: { command: "
                                              "[/bin/true], timeout: 5s }\n" + lines))
                    .globalChanged);
    CHECK(diffConfigs(withAll, mustLoad("metrics: { listen: '127.0.0.1:9561' }\non_change: { command: [/bin/true], "
                                        "timeout: 5s }\n" + lines))
              .globalChanged);
    CHECK(diffConfigs(withAll, mustLoad("metrics: { listen: '127.0.0.1:9560' }\non_change: { command: [/bin/true], "
                                        "timeout: 6s }\n" + lines))
              .globalChanged);
    CHECK(diffConfigs(withAll, mustLoad("metrics: { listen: '127.0.0.1:9560' }\non_change: { command: [/bin/true, "
                                        "x], timeout: 5s }\n" + lines))
              .globalChanged);
}

TEST_CASE("requests: answer_from and max_rate, with their defaults") {
    const GlobalSettings d = mustLoadGlobal("lines: [{ id: a, aor: 'sip:a@example.net' }]\n");
    CHECK((d.requests.answerFrom == sipreg::config::AnswerFrom::Any));
    CHECK(d.requests.maxRate == 200);
    CHECK(describe(d).find(" requests.answer_from=any requests.max_rate=200/s ") != std::string::npos);
    const GlobalSettings g = mustLoadGlobal(
        "requests: { answer_from: registrars, max_rate: 20 }\nlines: [{ id: a, aor: 'sip:a@example.net' }]\n");
    CHECK((g.requests.answerFrom == sipreg::config::AnswerFrom::Registrars));
    CHECK(g.requests.maxRate == 20);
}

TEST_CASE("requests: bad values and unknown keys name their place") {
    const std::string line = "\nlines: [{ id: a, aor: 'sip:a@example.net' }]\n";
    CHECK(onlyError(load("requests: { answer_from: friends }" + line)).find(
              "test.yaml:1:26: requests.answer_from: ") == 0);
    CHECK(onlyError(load("requests: { max_rate: 0 }" + line)).find("test.yaml:1:23: requests.max_rate: ") == 0);
    CHECK(onlyError(load("requests: { answer_form: any }" + line)).find("test.yaml:1:13: requests.answer_form") == 0);
    CHECK(onlyError(load("requests: registrars" + line)).find("test.yaml:1:") == 0);
}
