#pragma once
// Runs external programs from the loop without ever blocking it: posix_spawn (no shell, no
// PATH search), a small fixed environment plus the variables a job gives, a timeout that
// ends in SIGTERM and then SIGKILL, at most a few children at once and a bounded queue.
//
// The child's environment is built from scratch. The daemon's own environment is never
// passed on: it may hold the secrets named by password_env.
//
// Standard streams: stdin is /dev/null; stdout goes to /dev/null so a chatty program cannot
// flood the daemon's log; stderr is inherited, so a failing program's complaints land in
// the same log (journal, container output) as the daemon's own warning about it.
// Descriptors 3 and up are closed in the child even when someone forgot FD_CLOEXEC.
//
// Reaping: a uv_signal_t on SIGCHLD plus waitpid(pid, WNOHANG) for the pids this runner
// started, and only those. It needs neither Linux 5.3 nor a seccomp policy that allows
// pidfd_open (containers, SystemCallFilter=), and libuv already shares SIGCHLD safely among
// its watchers. A pid stays reserved until its parent reaps it and only this runner reaps
// its children, so kill() can never reach a recycled pid. Each child leads its own process
// group, so a timeout also ends what the program started (a script's `sleep`).
#include <uv.h>

#include <spdlog/logger.h>
#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "net/uv_handle.h"
#include "util/result.h"

namespace sipreg::net {

struct CommandJob {
    std::vector<std::string> argv;  // argv[0]: the program's absolute path
    std::vector<std::pair<std::string, std::string>> env;  // added to commandBaseEnvironment()
    std::chrono::milliseconds timeout{10'000};            // SIGTERM after this
    std::string label;  // who asked (a line id): shown in logs and handed back with the outcome
};

enum class CommandEnd : uint8_t {
    Exited,       // exitStatus holds the status
    Signaled,     // killed by `signal`, not by us
    TimedOut,     // still running after the timeout; `signal` is the one that ended it
    SpawnFailed,  // could not be started; `error` says why
};

struct CommandOutcome {
    CommandEnd end = CommandEnd::Exited;
    int exitStatus = 0;
    int signal = 0;
    std::string error;
    std::chrono::milliseconds elapsed{0};

    bool ok() const noexcept { return end == CommandEnd::Exited && exitStatus == 0; }
};

// "exited with status 3", "killed by signal 9 (Killed)", "timed out after 10 s, ended by
// SIGTERM", "could not be started: No such file or directory".
std::string describe(const CommandOutcome& outcome);

struct CommandRunnerOptions {
    std::size_t maxRunning = 4;
    std::size_t maxQueued = 1000;                   // beyond this, jobs are dropped and counted
    std::chrono::milliseconds killGrace{2'000};     // SIGTERM -> SIGKILL
    std::string name = "command";                   // prefix of the runner's own log lines
};

struct CommandCounters {
    uint64_t started = 0;
    uint64_t succeeded = 0;
    uint64_t failed = 0;       // non-zero exit or a signal not sent by us
    uint64_t timedOut = 0;
    uint64_t spawnFailed = 0;
    uint64_t dropped = 0;      // queue full
    uint64_t abandoned = 0;    // queued or running when the runner closed
};

// "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8".
const std::vector<std::string>& commandBaseEnvironment();

class CommandRunner {
public:
    // Called on the loop when a job's child is gone (or could not start). Not called for
    // children killed by close().
    using FinishedHandler = std::function<void(const CommandJob&, const CommandOutcome&)>;

    CommandRunner(uv_loop_t* loop, CommandRunnerOptions options, FinishedHandler finished,
                  std::shared_ptr<spdlog::logger> log);
    ~CommandRunner();
    CommandRunner(const CommandRunner&) = delete;
    CommandRunner& operator=(const CommandRunner&) = delete;

    // Watches SIGCHLD; must succeed before submit().
    Result<void> start();
    // Runs the job now, or queues it while maxRunning children run. An error when the job
    // is malformed (empty argv, NUL bytes, a bad variable name), when the runner is not
    // started or closed, or when the queue is full (counted in `dropped`).
    Result<void> submit(CommandJob job);
    // Discards the queue, ends running children (SIGTERM, then SIGKILL) and reaps them,
    // blocking for at most about kCloseTermWait + kCloseKillWait. Idempotent.
    void close() noexcept;

    bool idle() const noexcept { return running_.empty() && queue_.empty(); }
    std::size_t running() const noexcept { return running_.size(); }
    std::size_t queued() const noexcept { return queue_.size(); }
    const CommandCounters& counters() const noexcept { return counters_; }

    static constexpr std::chrono::milliseconds kCloseTermWait{300};
    static constexpr std::chrono::milliseconds kCloseKillWait{1'000};

private:
    struct Child {
        CommandRunner* owner = nullptr;
        pid_t pid = -1;
        CommandJob job;
        uint64_t startedMs = 0;
        int sentSignal = 0;  // 0: none yet; SIGTERM or SIGKILL after the timeout
        UvHandle<uv_timer_t> timer;
    };

    static void onSigchld(uv_signal_t* h, int signum) noexcept;
    static void onTimer(uv_timer_t* t) noexcept;

    void pump();
    void launch(CommandJob job);
    void reapFinished();
    void finishChild(std::unique_ptr<Child> child, int status);
    void onChildTimer(Child& child);
    void countDropped(const CommandJob& job);
    void logDrainedBurst();
    uint64_t nowMs() const noexcept;

    uv_loop_t* loop_;
    CommandRunnerOptions options_;
    FinishedHandler finished_;
    std::shared_ptr<spdlog::logger> log_;
    UvHandle<uv_signal_t> sigchld_;
    std::vector<std::unique_ptr<Child>> running_;
    std::deque<CommandJob> queue_;
    CommandCounters counters_;
    uint64_t droppedInBurst_ = 0;
    bool started_ = false;
    bool closed_ = false;
    bool pumping_ = false;
};

}  // namespace sipreg::net
