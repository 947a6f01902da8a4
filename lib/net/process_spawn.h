#pragma once
// One child process started with posix_spawn: no shell, no PATH search, the environment
// exactly as given, stdin and stdout on /dev/null, stderr inherited, descriptors 3 and up
// closed, signal mask and dispositions reset (the daemon ignores SIGPIPE; a program must
// not inherit that), and the child leading a new process group so the whole group can be
// signalled.
#include <sys/types.h>

#include <string>
#include <vector>

#include "util/result.h"

namespace sipreg::net {

// `argv[0]` must be an absolute path; `environment` holds "NAME=value" strings. The error
// names the program and says why it could not be started (exec failures included: glibc
// reports them from posix_spawn itself).
Result<pid_t> spawnProcess(const std::vector<std::string>& argv, const std::vector<std::string>& environment);

// Sends `signum` to the process group led by `pid`, or to `pid` alone when it has no group
// (it left it); false when neither exists any more.
bool signalProcessGroup(pid_t pid, int signum) noexcept;

}  // namespace sipreg::net
