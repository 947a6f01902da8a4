#include "net/command_runner.h"

#include <doctest/doctest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "loop_fixture.h"

using namespace std::chrono_literals;
using sipreg::net::CommandEnd;
using sipreg::net::CommandJob;
using sipreg::net::CommandOutcome;
using sipreg::net::CommandRunner;
using sipreg::net::CommandRunnerOptions;
using sipreg::net::testing::LoopFixture;
using sipreg::net::testing::ScopedEnv;

namespace {

class TempDir {
public:
    TempDir() {
        std::string pattern = (std::filesystem::temp_directory_path() / "sipreg-cmd-XXXXXX").string();
        REQUIRE(mkdtemp(pattern.data()) != nullptr);
        path_ = pattern;
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    std::string file(const std::string& name) const { return (path_ / name).string(); }

    std::string script(const std::string& name, const std::string& body) const {
        const std::string p = file(name);
        std::ofstream(p) << "#!/bin/sh\n" << body << "\n";
        REQUIRE(chmod(p.c_str(), 0755) == 0);
        return p;
    }

private:
    std::filesystem::path path_;
};

std::string readFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

void touch(const std::string& path) { std::ofstream(path) << "go\n"; }

// No child of this process is left, neither running nor a zombie.
bool noChildrenLeft() {
    int status = 0;
    return waitpid(-1, &status, WNOHANG) == -1 && errno == ECHILD;
}

// True when the process is gone or only a zombie waiting for some other parent.
bool goneOrZombie(pid_t pid) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    if (!stat) return true;
    std::string line;
    std::getline(stat, line);
    const auto close = line.rfind(')');
    return close != std::string::npos && close + 2 < line.size() && line[close + 2] == 'Z';
}

struct Finished {
    std::string label;
    CommandOutcome outcome;
};

CommandJob job(std::vector<std::string> argv, std::string label = "job") {
    CommandJob j;
    j.argv = std::move(argv);
    j.label = std::move(label);
    j.timeout = 10s;
    return j;
}

}  // namespace

TEST_CASE("the child gets the base environment and the job's variables, never the daemon's") {
    LoopFixture fx;
    TempDir dir;
    // A secret in the daemon's own environment, like the value password_env names.
    ScopedEnv secret("SIPREG_TEST_PASSWORD_ENV", "hunter2-secret");
    // /proc/$$/environ is what the shell was started with, before it adds PWD of its own.
    const std::string dump = dir.script("dump", "cat /proc/$$/environ > \"$1\"");
    std::vector<Finished> done;
    {
        CommandRunner runner(&fx.loop, {}, [&](const CommandJob& j, const CommandOutcome& o) { done.push_back({j.label, o}); },
                             nullptr);
        REQUIRE(runner.start().ok());
        CommandJob j = job({dump, dir.file("env")});
        j.env = {{"SIPREGD_LINE", "line one"}, {"SIPREGD_REASON", "Forbidden = no; \"quoted\" $HOME"}, {"LANG", "C"}};
        REQUIRE(runner.submit(std::move(j)).ok());
        REQUIRE(fx.runUntil([&] { return done.size() == 1; }, "dump finished"));
        CHECK(done[0].outcome.ok());
        CHECK(runner.counters().succeeded == 1);
        runner.close();
    }
    std::map<std::string, std::string> env;
    std::istringstream in(readFile(dir.file("env")));
    for (std::string entry; std::getline(in, entry, '\0');) {
        const auto eq = entry.find('=');
        REQUIRE(eq != std::string::npos);
        CHECK_MESSAGE(env.count(entry.substr(0, eq)) == 0, "duplicate " << entry);
        env[entry.substr(0, eq)] = entry.substr(eq + 1);
    }
    const std::map<std::string, std::string> expected{
        {"PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
        {"LANG", "C"},  // the job's value replaces the base one
        {"SIPREGD_LINE", "line one"},
        {"SIPREGD_REASON", "Forbidden = no; \"quoted\" $HOME"},
    };
    CHECK(env == expected);
    CHECK(readFile(dir.file("env")).find("hunter2") == std::string::npos);
    CHECK(noChildrenLeft());
    fx.finish();
}

TEST_CASE("arguments reach the program exactly as given: no shell splits or expands them") {
    LoopFixture fx;
    TempDir dir;
    const std::string args = dir.script("args", "out=$1; shift; for a in \"$@\"; do printf '[%s]\\n' \"$a\"; done > \"$out\"");
    const std::vector<std::string> given{"two words", "", "  padded  ", "$HOME", "a;b|c", "it's \"quoted\"", "*"};
    bool finished = false;
    {
        CommandRunner runner(&fx.loop, {}, [&](const CommandJob&, const CommandOutcome& o) {
            CHECK(o.ok());
            finished = true;
        }, nullptr);
        REQUIRE(runner.start().ok());
        std::vector<std::string> argv{args, dir.file("out")};
        argv.insert(argv.end(), given.begin(), given.end());
        REQUIRE(runner.submit(job(argv)).ok());
        REQUIRE(fx.runUntil([&] { return finished; }, "args finished"));
    }
    std::string expected;
    for (const auto& a : given) expected += "[" + a + "]\n";
    CHECK(readFile(dir.file("out")) == expected);
    CHECK(noChildrenLeft());
    fx.finish();
}

TEST_CASE("exit status, a signal and a program that cannot start are reported") {
    LoopFixture fx;
    TempDir dir;
    const std::string fail = dir.script("fail", "exit 3");
    const std::string crash = dir.script("crash", "kill -USR1 $$");
    std::map<std::string, CommandOutcome> done;
    {
        CommandRunner runner(&fx.loop, {}, [&](const CommandJob& j, const CommandOutcome& o) { done[j.label] = o; }, nullptr);
        REQUIRE(runner.start().ok());
        REQUIRE(runner.submit(job({fail}, "fail")).ok());
        REQUIRE(runner.submit(job({crash}, "crash")).ok());
        REQUIRE(runner.submit(job({dir.file("missing")}, "missing")).ok());
        REQUIRE(fx.runUntil([&] { return done.size() == 3; }, "three outcomes"));
        CHECK(done["fail"].end == CommandEnd::Exited);
        CHECK(done["fail"].exitStatus == 3);
        CHECK_FALSE(done["fail"].ok());
        CHECK(sipreg::net::describe(done["fail"]) == "exited with status 3");
        CHECK(done["crash"].end == CommandEnd::Signaled);
        CHECK(done["crash"].signal == SIGUSR1);
        CHECK(done["missing"].end == CommandEnd::SpawnFailed);
        CHECK(done["missing"].error.find("No such file") != std::string::npos);
        CHECK(runner.counters().failed == 2);
        CHECK(runner.counters().spawnFailed == 1);
        CHECK(runner.counters().started == 2);
    }
    CHECK(noChildrenLeft());
    fx.finish();
}

TEST_CASE("malformed jobs are refused before anything is started") {
    LoopFixture fx;
    int finished = 0;
    {
        CommandRunner runner(&fx.loop, {}, [&](const CommandJob&, const CommandOutcome&) { ++finished; }, nullptr);
        CHECK_FALSE(runner.submit(job({"/bin/true"})).ok());  // not started yet
        REQUIRE(runner.start().ok());
        CHECK_FALSE(runner.submit(job({})).ok());
        CommandJob badName = job({"/bin/true"});
        badName.env = {{"A=B", "x"}};
        CHECK_FALSE(runner.submit(badName).ok());
        CommandJob nul = job({"/bin/true"});
        nul.env = {{"A", std::string("x\0y", 3)}};
        CHECK_FALSE(runner.submit(nul).ok());
        CHECK_FALSE(runner.submit(job({std::string("/bin/tr\0ue", 10)})).ok());
        CHECK(runner.idle());
        CHECK(runner.counters().started == 0);
        // A relative program is not searched for: it fails to start.
        CommandOutcome outcome;
        CommandRunner second(&fx.loop, {}, [&](const CommandJob&, const CommandOutcome& o) { outcome = o; }, nullptr);
        REQUIRE(second.start().ok());
        REQUIRE(second.submit(job({"true"})).ok());
        CHECK(outcome.end == CommandEnd::SpawnFailed);
        CHECK(outcome.error.find("absolute path") != std::string::npos);
        runner.close();
        CHECK_FALSE(runner.submit(job({"/bin/true"})).ok());  // closed
    }
    CHECK(finished == 0);
    CHECK(noChildrenLeft());
    fx.finish();
}

TEST_CASE("a child past its timeout is ended with its whole process group") {
    LoopFixture fx(10'000ms);
    TempDir dir;
    // The script starts `sleep 30` and waits for it, as a careless notify script would.
    const std::string slow = dir.script("slow", "sleep 30 & echo $! > \"$1\"; wait");
    // Ignores SIGTERM (and so does its sleep): only SIGKILL ends it.
    const std::string stubborn = dir.script("stubborn", "trap '' TERM; sleep 30 & echo $! > \"$1\"; wait");
    std::map<std::string, CommandOutcome> done;
    CommandRunnerOptions options;
    options.killGrace = 300ms;
    const auto start = std::chrono::steady_clock::now();
    {
        CommandRunner runner(&fx.loop, options, [&](const CommandJob& j, const CommandOutcome& o) { done[j.label] = o; },
                             nullptr);
        REQUIRE(runner.start().ok());
        CommandJob a = job({slow, dir.file("slow.pid")}, "slow");
        a.timeout = 200ms;
        CommandJob b = job({stubborn, dir.file("stubborn.pid")}, "stubborn");
        b.timeout = 200ms;
        REQUIRE(runner.submit(std::move(a)).ok());
        REQUIRE(runner.submit(std::move(b)).ok());
        REQUIRE(fx.runUntil([&] { return done.size() == 2; }, "both timed out"));
        CHECK(done["slow"].end == CommandEnd::TimedOut);
        CHECK(done["slow"].signal == SIGTERM);
        CHECK(done["stubborn"].end == CommandEnd::TimedOut);
        CHECK(done["stubborn"].signal == SIGKILL);
        // timeout + grace (500 ms) before SIGKILL; a little slack for the clocks' resolution
        CHECK(done["stubborn"].elapsed >= 450ms);
        CHECK(runner.counters().timedOut == 2);
        CHECK(runner.idle());
    }
    const auto elapsed = std::chrono::steady_clock::now() - start;
    CHECK(elapsed < 5s);
    // The grandchildren were in the group: they are gone too (at most a zombie of init).
    for (const char* name : {"slow.pid", "stubborn.pid"}) {
        const pid_t sleeper = static_cast<pid_t>(std::stol(readFile(dir.file(name))));
        for (int i = 0; i < 100 && !goneOrZombie(sleeper); ++i) fx.runFor(10);
        CHECK_MESSAGE(goneOrZombie(sleeper), std::string(name) << ": sleep " << sleeper << " still running");
    }
    CHECK(noChildrenLeft());
    fx.finish();
}

TEST_CASE("at most maxRunning children run at once; the rest wait in the queue") {
    LoopFixture fx;
    TempDir dir;
    const std::string gate = dir.file("go");
    const std::string waiter = dir.script("wait", "while [ ! -e \"$1\" ]; do sleep 0.02; done");
    CommandRunnerOptions options;
    options.maxRunning = 2;
    std::vector<std::string> order;
    std::size_t mostRunning = 0;
    {
        CommandRunner* self = nullptr;
        CommandRunner runner(&fx.loop, options, [&](const CommandJob& j, const CommandOutcome& o) {
            CHECK(o.ok());
            order.push_back(j.label);
            mostRunning = std::max(mostRunning, self->running());
        }, nullptr);
        self = &runner;
        REQUIRE(runner.start().ok());
        for (int i = 0; i < 5; ++i) REQUIRE(runner.submit(job({waiter, gate}, std::to_string(i))).ok());
        CHECK(runner.running() == 2);
        CHECK(runner.queued() == 3);
        fx.runFor(100);
        CHECK(runner.running() == 2);  // blocked on the gate: nothing more started
        CHECK(runner.counters().started == 2);
        touch(gate);
        REQUIRE(fx.runUntil([&] {
            mostRunning = std::max(mostRunning, runner.running());
            return order.size() == 5;
        }, "all five finished"));
        CHECK(mostRunning <= 2);
        CHECK(runner.counters().started == 5);
        CHECK(runner.idle());
    }
    CHECK(noChildrenLeft());
    fx.finish();
}

TEST_CASE("a full queue drops and counts jobs, logging once per burst") {
    LoopFixture fx;
    TempDir dir;
    std::ostringstream logText;
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(logText);
    auto log = std::make_shared<spdlog::logger>("test", sink);
    const std::string gate = dir.file("go");
    const std::string waiter = dir.script("wait", "while [ ! -e \"$1\" ]; do sleep 0.02; done");
    CommandRunnerOptions options;
    options.maxRunning = 1;
    options.maxQueued = 2;
    options.name = "on_change";
    int finished = 0;
    auto count = [&](const std::string& what) {
        std::size_t n = 0;
        const std::string text = logText.str();
        for (auto p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++n;
        return n;
    };
    {
        CommandRunner runner(&fx.loop, options, [&](const CommandJob&, const CommandOutcome&) { ++finished; }, log);
        REQUIRE(runner.start().ok());
        for (int i = 0; i < 3; ++i) REQUIRE(runner.submit(job({waiter, gate})).ok());
        for (int i = 0; i < 4; ++i) CHECK_FALSE(runner.submit(job({waiter, gate})).ok());
        CHECK(runner.counters().dropped == 4);
        CHECK(runner.queued() == 2);
        CHECK(count("dropping further ones") == 1);
        CHECK(count("drained") == 0);
        touch(gate);
        REQUIRE(fx.runUntil([&] { return finished == 3; }, "the three accepted jobs"));
        CHECK(count("queue drained; 4 commands were dropped") == 1);
        // A new burst is reported again.
        std::filesystem::remove(gate);
        for (int i = 0; i < 3; ++i) REQUIRE(runner.submit(job({waiter, gate})).ok());
        CHECK_FALSE(runner.submit(job({waiter, gate})).ok());
        CHECK(count("dropping further ones") == 2);
        CHECK(runner.counters().dropped == 5);
        touch(gate);
        REQUIRE(fx.runUntil([&] { return finished == 6; }, "the second three"));
    }
    CHECK(noChildrenLeft());
    fx.finish();
}

TEST_CASE("close ends running children, reaps them and discards the queue, within its bound") {
    LoopFixture fx;
    TempDir dir;
    const std::string forever = dir.script("forever", "while :; do sleep 0.05; done");
    const std::string stubborn = dir.script("stubborn", "trap '' TERM; while :; do sleep 0.05; done");
    int finished = 0;
    CommandRunnerOptions options;
    options.maxRunning = 2;
    CommandRunner runner(&fx.loop, options, [&](const CommandJob&, const CommandOutcome&) { ++finished; }, nullptr);
    REQUIRE(runner.start().ok());
    REQUIRE(runner.submit(job({forever})).ok());
    REQUIRE(runner.submit(job({stubborn})).ok());
    REQUIRE(runner.submit(job({forever})).ok());
    CHECK(runner.running() == 2);
    fx.runFor(50);  // let the stubborn one install its trap
    const auto start = std::chrono::steady_clock::now();
    runner.close();
    const auto took = std::chrono::steady_clock::now() - start;
    CHECK(took < CommandRunner::kCloseTermWait + CommandRunner::kCloseKillWait + 500ms);
    CHECK(runner.idle());
    CHECK(runner.counters().abandoned == 3);
    CHECK(finished == 0);
    CHECK(noChildrenLeft());
    runner.close();  // idempotent
    fx.finish();
}

TEST_CASE("a runner destroyed while children run leaves no zombie and no open handle") {
    LoopFixture fx;
    TempDir dir;
    const std::string forever = dir.script("forever", "while :; do sleep 0.05; done");
    {
        CommandRunner runner(&fx.loop, {}, {}, nullptr);
        REQUIRE(runner.start().ok());
        REQUIRE(runner.submit(job({forever})).ok());
        fx.runFor(20);
    }
    CHECK(noChildrenLeft());
    fx.finish();
}
