#pragma once
// The running daemon: one libuv loop holding the UDP sockets, the timer driver, signals,
// sd_notify and the LineManager. run() returns the process exit code.
#include <optional>
#include <string>
#include <vector>

namespace sipreg::daemon {

// Exit codes (documented in docs/operations.md).
inline constexpr int kExitOk = 0;
inline constexpr int kExitConfigInvalid = 1;  // the configuration has errors: fix it, don't restart
inline constexpr int kExitUsage = 2;          // bad command line or unreadable file
inline constexpr int kExitStartup = 3;        // sockets could not be bound, loop failure
inline constexpr int kExitLinesFailed = 4;    // --once: at least one line did not register

struct RunOptions {
    std::string configPath;
    std::optional<std::string> logLevel;  // overrides the file's log_level
    // --once: register these lines (all when empty) one time, print the results, unregister.
    bool once = false;
    std::vector<std::string> onceLines;
};

int runDaemon(const RunOptions& options);

}  // namespace sipreg::daemon
