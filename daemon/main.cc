// sipregd: keeps many SIP registrations alive. main() only parses the command line; the
// work lives in lib/ and daemon/sipregd/.
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "config/check.h"
#include "sipregd/daemon.h"

int main(int argc, char** argv) {
    CLI::App app{"sipregd: keeps SIP registrations alive"};
    std::string configPath = "/etc/sipregd/sipregd.yaml";
    bool checkOnly = false;
    std::string logLevel;
    app.add_option("-c,--config", configPath, "configuration file")->capture_default_str();
    app.add_flag("--check", checkOnly, "validate the configuration and exit (0 valid, 1 invalid, 2 unreadable)");
    app.add_option("--log-level", logLevel, "trace | debug | info | warn | error (overrides log_level)")
        ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
    bool once = false;
    std::vector<std::string> onceLines;
    app.add_flag("--once", once,
                 "register the lines one time, print the results, unregister and exit (0 all registered, 4 not)");
    app.add_option("--line", onceLines, "with --once: only this line (repeatable)");
    app.set_version_flag("--version", std::string("sipregd ") + SIPREGD_VERSION);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int code = app.exit(e);
        return code == 0 ? 0 : sipreg::daemon::kExitUsage;
    }

    if (checkOnly) {
        const auto report = sipreg::config::checkConfigFile(configPath);
        for (const auto& line : report.diagnostics) std::cerr << line << '\n';
        for (const auto& line : report.output) std::cout << line << '\n';
        return report.exitCode;
    }
    try {
        sipreg::daemon::RunOptions options;
        options.configPath = configPath;
        if (!logLevel.empty()) options.logLevel = logLevel;
        options.once = once;
        options.onceLines = onceLines;
        if (!once && !onceLines.empty()) {
            std::cerr << "sipregd: --line needs --once\n";
            return sipreg::daemon::kExitUsage;
        }
        return sipreg::daemon::runDaemon(options);
    } catch (const std::exception& e) {
        std::cerr << "sipregd: fatal: " << e.what() << '\n';
        return sipreg::daemon::kExitStartup;
    }
}
