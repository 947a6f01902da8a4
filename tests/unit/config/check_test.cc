// The logic behind `sipregd --check`: output and exit code.
#include <doctest/doctest.h>

#include "config/check.h"
#include "config_test_support.h"

using sipreg::config::checkConfigFile;
using sipreg::config::kCheckExitInvalid;
using sipreg::config::kCheckExitUnreadable;
using sipreg::config::kCheckExitValid;
using sipreg::config::test::TempDir;
using sipreg::config::test::withEnv;

TEST_CASE("valid file: exit 0 and a one-line summary") {
    TempDir dir;
    const std::string path = dir.write("sipregd.yaml",
                                       "lines:\n"
                                       "  - { id: a, aor: 'sip:a@example.net' }\n"
                                       "  - { id: b, aor: 'sip:b@example.net', registrar: 'sip:EXAMPLE.net:5060', transport: udp }\n"
                                       "  - { id: c, aor: 'sip:c@example.org', transport: tls }\n"
                                       "  - { id: d, aor: 'sip:d@example.com', transport: tcp, enabled: false }\n");
    const auto report = checkConfigFile(path, withEnv({}));
    CHECK(report.exitCode == kCheckExitValid);
    CHECK(report.diagnostics.empty());
    REQUIRE(report.output.size() == 1);
    CHECK(report.output[0] == path + ": OK, 4 lines (1 udp, 1 tcp, 1 tls, 1 transport by DNS; 1 disabled), 3 distinct registrars");
}

TEST_CASE("valid file with warnings: still exit 0, warnings on the diagnostics stream") {
    TempDir dir;
    const std::string path = dir.write("w.yaml", "lines:\n  - { id: a, aor: 'sip:a@example.net', auth: { password: p } }\n", 0644);
    const auto report = checkConfigFile(path, withEnv({}));
    CHECK(report.exitCode == kCheckExitValid);
    REQUIRE(report.output.size() == 1);
    CHECK(report.output[0] == path + ": OK, 1 line (1 transport by DNS), 1 distinct registrar, 1 warning");
    REQUIRE(report.diagnostics.size() == 1);
    CHECK(report.diagnostics[0].rfind(path + ":2:48: warning: lines[0].auth.password: the config file is readable", 0) == 0);
}

TEST_CASE("invalid file: exit 1, every error on its own line, no summary") {
    TempDir dir;
    const std::string path = dir.write("bad.yaml",
                                       "max_rate: 0\n"
                                       "lines:\n"
                                       "  - { id: a, aor: 'sip:a@example.net', expires: 1 }\n");
    const auto report = checkConfigFile(path, withEnv({}));
    CHECK(report.exitCode == kCheckExitInvalid);
    CHECK(report.output.empty());
    CHECK(report.diagnostics == std::vector<std::string>{
                                    path + ":1:11: error: max_rate: must be between 1 and 100000 (got 0)",
                                    path + ":3:49: error: lines[0].expires: must be between 10s and 1d (got 1)"});
}

TEST_CASE("unreadable file: exit 2") {
    TempDir dir;
    auto report = checkConfigFile(dir.path() + "/absent.yaml", withEnv({}));
    CHECK(report.exitCode == kCheckExitUnreadable);
    CHECK(report.diagnostics ==
          std::vector<std::string>{dir.path() + "/absent.yaml: error: cannot read the configuration file: No such file or directory"});

    report = checkConfigFile(dir.path(), withEnv({}));
    CHECK(report.exitCode == kCheckExitUnreadable);
    CHECK(report.output.empty());
}
