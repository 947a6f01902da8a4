#include "net/command_runner.h"

#include <sys/wait.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <ctime>

#include "net/process_spawn.h"
#include "net/transport_error.h"

namespace sipreg::net {
namespace {

bool validName(const std::string& name) {
    if (name.empty() || (name.front() >= '0' && name.front() <= '9')) return false;
    for (char c : name) {
        const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
        if (!ok) return false;
    }
    return true;
}

bool hasNul(const std::string& s) { return s.find('\0') != std::string::npos; }

Result<void> validate(const CommandJob& job) {
    if (job.argv.empty()) return makeError("no program given");
    for (const std::string& a : job.argv) {
        if (hasNul(a)) return makeError("an argument of " + job.argv.front() + " contains a NUL byte");
    }
    for (const auto& [name, value] : job.env) {
        if (!validName(name)) return makeError("'" + name + "' is not a valid environment variable name");
        if (hasNul(value)) return makeError("the value of " + name + " contains a NUL byte");
    }
    if (job.timeout.count() <= 0) return makeError("the timeout must be positive");
    return {};
}

// The base first; a job's variable of the same name replaces the base one.
std::vector<std::string> environmentFor(const CommandJob& job) {
    std::vector<std::string> out;
    out.reserve(commandBaseEnvironment().size() + job.env.size());
    for (const std::string& base : commandBaseEnvironment()) {
        const std::string prefix = base.substr(0, base.find('=') + 1);
        bool replaced = false;
        for (const auto& [name, value] : job.env) replaced = replaced || prefix == name + "=";
        if (!replaced) out.push_back(base);
    }
    for (const auto& [name, value] : job.env) out.push_back(name + "=" + value);
    return out;
}

std::string seconds(std::chrono::milliseconds ms) {
    const auto tenths = (ms.count() + 50) / 100;
    return std::to_string(tenths / 10) + "." + std::to_string(tenths % 10) + " s";
}

std::string signalText(int signum) {
    const char* name = strsignal(signum);
    return "signal " + std::to_string(signum) + (name != nullptr ? std::string(" (") + name + ")" : std::string());
}

// Waits (blocking, bounded) until every pid in `pids` is reaped; reaped ones become -1.
bool reapAll(std::vector<pid_t>& pids, std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    for (;;) {
        bool left = false;
        for (pid_t& pid : pids) {
            if (pid <= 0) continue;
            int status = 0;
            const pid_t r = ::waitpid(pid, &status, WNOHANG);
            if (r == pid || (r < 0 && errno == ECHILD)) {
                pid = -1;
            } else {
                left = true;
            }
        }
        if (!left) return true;
        if (std::chrono::steady_clock::now() >= deadline) return false;
        const timespec pause{0, 5'000'000};
        ::nanosleep(&pause, nullptr);
    }
}

}  // namespace

const std::vector<std::string>& commandBaseEnvironment() {
    static const std::vector<std::string> base{
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "LANG=C.UTF-8",
    };
    return base;
}

std::string describe(const CommandOutcome& o) {
    switch (o.end) {
        case CommandEnd::Exited: return "exited with status " + std::to_string(o.exitStatus);
        case CommandEnd::Signaled: return "killed by " + signalText(o.signal);
        case CommandEnd::TimedOut:
            return "still running at the timeout: ended by " + signalText(o.signal) + " after " + seconds(o.elapsed);
        case CommandEnd::SpawnFailed: return "could not be started: " + o.error;
    }
    return "ended";
}

CommandRunner::CommandRunner(uv_loop_t* loop, CommandRunnerOptions options, FinishedHandler finished,
                             std::shared_ptr<spdlog::logger> log)
    : loop_(loop), options_(std::move(options)), finished_(std::move(finished)), log_(std::move(log)) {
    if (options_.maxRunning == 0) options_.maxRunning = 1;
}

CommandRunner::~CommandRunner() { close(); }

Result<void> CommandRunner::start() {
    if (closed_) return makeError(options_.name + ": closed");
    if (started_) return {};
    int rc = uv_signal_init(loop_, sigchld_.get());
    if (rc == 0) {
        sigchld_.get()->data = this;
        rc = uv_signal_start(sigchld_.get(), &CommandRunner::onSigchld, SIGCHLD);
    }
    if (rc != 0) {
        sigchld_.reset();
        return makeError(describeUvError(options_.name + ": watch SIGCHLD", rc));
    }
    // Running children keep the loop alive through their timers; the watcher alone must not.
    uv_unref(sigchld_.base());
    started_ = true;
    return {};
}

Result<void> CommandRunner::submit(CommandJob job) {
    if (auto v = validate(job); !v) return makeError(options_.name + " " + job.label + ": " + v.error().message);
    if (closed_ || !started_) return makeError(options_.name + ": not running");
    if (running_.size() >= options_.maxRunning && queue_.size() >= options_.maxQueued) {
        countDropped(job);
        return makeError(options_.name + ": " + std::to_string(queue_.size()) + " commands already waiting");
    }
    queue_.push_back(std::move(job));
    pump();
    return {};
}

void CommandRunner::pump() {
    if (pumping_) return;  // a finished handler submitting from inside pump(): the outer loop continues
    pumping_ = true;
    while (!closed_ && running_.size() < options_.maxRunning && !queue_.empty()) {
        CommandJob job = std::move(queue_.front());
        queue_.pop_front();
        launch(std::move(job));
    }
    pumping_ = false;
    if (queue_.empty()) logDrainedBurst();
}

void CommandRunner::launch(CommandJob job) {
    const uint64_t started = nowMs();
    auto pid = spawnProcess(job.argv, environmentFor(job));
    if (!pid) {
        ++counters_.spawnFailed;
        CommandOutcome outcome;
        outcome.end = CommandEnd::SpawnFailed;
        outcome.error = pid.error().message;
        if (finished_) guardCallback("command finished", [&] { finished_(job, outcome); });
        return;
    }
    ++counters_.started;
    auto child = std::make_unique<Child>();
    child->owner = this;
    child->pid = *pid;
    child->job = std::move(job);
    child->startedMs = started;
    if (uv_timer_init(loop_, child->timer.get()) == 0) {
        child->timer.get()->data = child.get();
        // Timers count from the loop's cached time, which may be well before this spawn.
        uv_update_time(loop_);
        uv_timer_start(child->timer.get(), &CommandRunner::onTimer, static_cast<uint64_t>(child->job.timeout.count()), 0);
    } else {
        // Without a timer the child cannot be timed out; end it rather than let it run unbounded.
        child->timer.reset();
        signalProcessGroup(child->pid, SIGKILL);
        child->sentSignal = SIGKILL;
    }
    running_.push_back(std::move(child));
}

void CommandRunner::onSigchld(uv_signal_t* h, int) noexcept {
    auto* self = ownerOf<CommandRunner>(h);
    if (self == nullptr) return;
    guardCallback("SIGCHLD", [self] { self->reapFinished(); });
}

void CommandRunner::onTimer(uv_timer_t* t) noexcept {
    auto* child = static_cast<Child*>(t->data);
    if (child == nullptr) return;
    guardCallback("command timeout", [child] { child->owner->onChildTimer(*child); });
}

void CommandRunner::reapFinished() {
    std::vector<std::pair<std::unique_ptr<Child>, int>> done;
    for (std::size_t i = 0; i < running_.size();) {
        int status = 0;
        pid_t r = -1;
        do {
            r = ::waitpid(running_[i]->pid, &status, WNOHANG);
        } while (r < 0 && errno == EINTR);
        if (r == 0) {
            ++i;
            continue;
        }
        if (r < 0) status = -1;  // ECHILD: reaped by someone else, status unknown
        done.emplace_back(std::move(running_[i]), status);
        running_.erase(running_.begin() + static_cast<std::ptrdiff_t>(i));
    }
    for (auto& [child, status] : done) {
        finishChild(std::move(child), status);
        if (closed_) return;
    }
    pump();
}

void CommandRunner::finishChild(std::unique_ptr<Child> child, int status) {
    child->timer.reset();
    CommandOutcome outcome;
    outcome.elapsed = std::chrono::milliseconds(nowMs() - child->startedMs);
    if (status == -1) {
        outcome.end = CommandEnd::Exited;
        outcome.exitStatus = -1;
    } else if (WIFEXITED(status)) {
        outcome.end = CommandEnd::Exited;
        outcome.exitStatus = WEXITSTATUS(status);
    } else {
        outcome.end = CommandEnd::Signaled;
        outcome.signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    }
    if (child->sentSignal != 0) {
        // Whatever it died of, it was because we ended it; a script that traps SIGTERM and
        // exits 0 still overran its time.
        outcome.end = CommandEnd::TimedOut;
        outcome.signal = child->sentSignal;
        ++counters_.timedOut;
    } else if (outcome.ok()) {
        ++counters_.succeeded;
    } else {
        ++counters_.failed;
    }
    if (finished_) guardCallback("command finished", [&] { finished_(child->job, outcome); });
}

void CommandRunner::onChildTimer(Child& child) {
    const pid_t pid = child.pid;
    reapFinished();  // it may have ended a moment ago, before its SIGCHLD was handled
    Child* still = nullptr;
    for (auto& c : running_) {
        if (c->pid == pid) still = c.get();
    }
    if (still == nullptr || closed_) return;
    if (still->sentSignal == 0) {
        still->sentSignal = SIGTERM;
    } else {
        still->sentSignal = SIGKILL;  // again after each grace period until it is reaped
    }
    signalProcessGroup(still->pid, still->sentSignal);
    uv_timer_start(still->timer.get(), &CommandRunner::onTimer, static_cast<uint64_t>(options_.killGrace.count()), 0);
}

void CommandRunner::countDropped(const CommandJob& job) {
    ++counters_.dropped;
    if (droppedInBurst_++ == 0 && log_) {
        log_->warn("{}: {} commands already waiting; dropping further ones until the queue drains (first dropped: {})",
                   options_.name, queue_.size(), job.label);
    }
}

void CommandRunner::logDrainedBurst() {
    if (droppedInBurst_ == 0) return;
    if (log_) log_->warn("{}: queue drained; {} commands were dropped while it was full", options_.name, droppedInBurst_);
    droppedInBurst_ = 0;
}

uint64_t CommandRunner::nowMs() const noexcept { return uv_hrtime() / 1'000'000; }

void CommandRunner::close() noexcept {
    if (closed_) return;
    closed_ = true;
    sigchld_.reset();
    const std::size_t discarded = queue_.size();
    queue_.clear();
    counters_.abandoned += discarded + running_.size();
    std::vector<pid_t> pids;
    for (auto& child : running_) {
        child->timer.reset();
        signalProcessGroup(child->pid, SIGTERM);
        pids.push_back(child->pid);
    }
    running_.clear();
    bool reaped = reapAll(pids, kCloseTermWait);
    if (!reaped) {
        for (pid_t pid : pids) {
            if (pid > 0) signalProcessGroup(pid, SIGKILL);
        }
        reaped = reapAll(pids, kCloseKillWait);
    }
    try {
        if (log_ && (discarded > 0 || !pids.empty())) {
            log_->warn("{}: closing: {} queued commands not run, {} running ones ended", options_.name, discarded,
                       pids.size());
        }
        if (log_ && droppedInBurst_ > 0) {
            log_->warn("{}: {} commands were dropped while the queue was full", options_.name, droppedInBurst_);
        }
        if (log_ && !reaped) {
            for (pid_t pid : pids) {
                if (pid > 0) log_->warn("{}: process {} did not exit after SIGKILL", options_.name, pid);
            }
        }
    } catch (...) {
        // Logging failed while closing; the children are handled either way.
    }
}

}  // namespace sipreg::net
