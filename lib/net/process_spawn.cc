#include "net/process_spawn.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <unistd.h>

#include <cstring>
#include <system_error>

namespace sipreg::net {
namespace {

// glibc 2.34 added addclosefrom_np; with it a descriptor someone opened without
// O_CLOEXEC (a library's socket, a log file) still does not leak into the program.
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
constexpr bool kHaveCloseFrom = true;
#else
constexpr bool kHaveCloseFrom = false;
#endif

class FileActions {
public:
    FileActions() { ok_ = posix_spawn_file_actions_init(&fa_) == 0; }
    ~FileActions() {
        if (ok_) posix_spawn_file_actions_destroy(&fa_);
    }
    FileActions(const FileActions&) = delete;
    FileActions& operator=(const FileActions&) = delete;
    bool ok() const noexcept { return ok_; }
    posix_spawn_file_actions_t* get() noexcept { return &fa_; }

private:
    posix_spawn_file_actions_t fa_{};
    bool ok_ = false;
};

class SpawnAttributes {
public:
    SpawnAttributes() { ok_ = posix_spawnattr_init(&attr_) == 0; }
    ~SpawnAttributes() {
        if (ok_) posix_spawnattr_destroy(&attr_);
    }
    SpawnAttributes(const SpawnAttributes&) = delete;
    SpawnAttributes& operator=(const SpawnAttributes&) = delete;
    bool ok() const noexcept { return ok_; }
    posix_spawnattr_t* get() noexcept { return &attr_; }

private:
    posix_spawnattr_t attr_{};
    bool ok_ = false;
};

std::vector<char*> pointers(const std::vector<std::string>& strings) {
    std::vector<char*> out;
    out.reserve(strings.size() + 1);
    // posix_spawn's prototype predates const; it does not write through these.
    for (const std::string& s : strings) out.push_back(const_cast<char*>(s.c_str()));
    out.push_back(nullptr);
    return out;
}

Error spawnError(const std::string& program, const char* step, int rc) {
    return makeError("cannot run " + program + ": " + step + ": " + std::generic_category().message(rc));
}

}  // namespace

Result<pid_t> spawnProcess(const std::vector<std::string>& argv, const std::vector<std::string>& environment) {
    if (argv.empty() || argv.front().empty() || argv.front().front() != '/') {
        return makeError("cannot run '" + (argv.empty() ? std::string() : argv.front()) +
                         "': the program must be given by its absolute path");
    }
    const std::string& program = argv.front();
    FileActions actions;
    if (!actions.ok()) return makeError("cannot run " + program + ": out of memory");
    int rc = posix_spawn_file_actions_addopen(actions.get(), STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    if (rc == 0) rc = posix_spawn_file_actions_addopen(actions.get(), STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    if constexpr (kHaveCloseFrom) {
        if (rc == 0) rc = posix_spawn_file_actions_addclosefrom_np(actions.get(), STDERR_FILENO + 1);
    }
    if (rc != 0) return spawnError(program, "file actions", rc);

    SpawnAttributes attributes;
    if (!attributes.ok()) return makeError("cannot run " + program + ": out of memory");
    sigset_t none;
    sigset_t all;
    sigemptyset(&none);
    sigfillset(&all);
    rc = posix_spawnattr_setsigmask(attributes.get(), &none);
    if (rc == 0) rc = posix_spawnattr_setsigdefault(attributes.get(), &all);
    if (rc == 0) rc = posix_spawnattr_setpgroup(attributes.get(), 0);
    if (rc == 0) {
        rc = posix_spawnattr_setflags(attributes.get(),
                                      POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
    }
    if (rc != 0) return spawnError(program, "attributes", rc);

    std::vector<char*> args = pointers(argv);
    std::vector<char*> env = pointers(environment);
    pid_t pid = -1;
    rc = posix_spawn(&pid, program.c_str(), actions.get(), attributes.get(), args.data(), env.data());
    if (rc != 0) return makeError("cannot run " + program + ": " + std::generic_category().message(rc));
    return pid;
}

bool signalProcessGroup(pid_t pid, int signum) noexcept {
    if (pid <= 0) return false;
    if (::kill(-pid, signum) == 0) return true;
    return ::kill(pid, signum) == 0;
}

}  // namespace sipreg::net
