#include "net/systemd_notifier.h"

#include <doctest/doctest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "loop_fixture.h"

using namespace std::chrono_literals;
using sipreg::net::SystemdNotifier;
using sipreg::net::testing::LoopFixture;
using sipreg::net::testing::ScopedEnv;

namespace {

// Plays systemd's side: an AF_UNIX datagram socket named by NOTIFY_SOCKET.
class NotifySocket {
public:
    NotifySocket() {
        char tmpl[] = "/tmp/sipreg-notify-XXXXXX";
        REQUIRE(mkdtemp(tmpl) != nullptr);
        dir_ = tmpl;
        path_ = dir_ + "/notify.sock";
        fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        REQUIRE(fd_ >= 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        REQUIRE(path_.size() < sizeof addr.sun_path);
        std::memcpy(addr.sun_path, path_.c_str(), path_.size() + 1);
        REQUIRE(bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    }
    ~NotifySocket() {
        close(fd_);
        unlink(path_.c_str());
        rmdir(dir_.c_str());
    }
    NotifySocket(const NotifySocket&) = delete;
    NotifySocket& operator=(const NotifySocket&) = delete;

    const std::string& path() const { return path_; }

    // Every datagram queued so far (sd_notify writes synchronously, so they are here).
    std::vector<std::string> drain() {
        std::vector<std::string> out;
        char buf[4096];
        for (;;) {
            const ssize_t n = recv(fd_, buf, sizeof buf, 0);
            if (n < 0) break;
            out.emplace_back(buf, static_cast<std::size_t>(n));
        }
        return out;
    }

private:
    std::string dir_;
    std::string path_;
    int fd_ = -1;
};

std::map<std::string, std::string> fields(const std::string& message) {
    std::map<std::string, std::string> out;
    std::size_t pos = 0;
    while (pos < message.size()) {
        auto end = message.find('\n', pos);
        if (end == std::string::npos) end = message.size();
        const auto line = message.substr(pos, end - pos);
        const auto eq = line.find('=');
        if (eq != std::string::npos) out[line.substr(0, eq)] = line.substr(eq + 1);
        pos = end + 1;
    }
    return out;
}

}  // namespace

TEST_CASE("without NOTIFY_SOCKET the notifier does nothing and holds no handles") {
    ScopedEnv noSocket("NOTIFY_SOCKET", nullptr);
    ScopedEnv noWatchdog("WATCHDOG_USEC", "100000");
    LoopFixture fx;
    {
        SystemdNotifier notifier(&fx.loop);
        CHECK_FALSE(notifier.enabled());
        CHECK_FALSE(notifier.watchdogPingInterval().has_value());
        notifier.ready();
        notifier.status("1/1 registered");
        notifier.reloading();
        notifier.stopping();
        CHECK(notifier.counters().messagesSent == 0);
        CHECK(notifier.counters().sendErrors == 0);
    }
    fx.finish();
}

TEST_CASE("READY, RELOADING with MONOTONIC_USEC, READY again and STOPPING reach the socket") {
    NotifySocket sock;
    ScopedEnv socketEnv("NOTIFY_SOCKET", sock.path().c_str());
    ScopedEnv noWatchdog("WATCHDOG_USEC", nullptr);
    LoopFixture fx;
    {
        SystemdNotifier notifier(&fx.loop);
        REQUIRE(notifier.enabled());
        notifier.ready();
        auto got = sock.drain();
        REQUIRE(got.size() == 1);
        CHECK(got[0] == "READY=1");

        const auto before = SystemdNotifier::monotonicMicros();
        notifier.reloading();
        const auto after = SystemdNotifier::monotonicMicros();
        notifier.ready();
        got = sock.drain();
        REQUIRE(got.size() == 2);
        auto reload = fields(got[0]);
        CHECK(reload["RELOADING"] == "1");
        REQUIRE(reload.count("MONOTONIC_USEC") == 1);
        const auto usec = std::stoull(reload["MONOTONIC_USEC"]);
        CHECK(usec >= before);
        CHECK(usec <= after);
        CHECK(got[1] == "READY=1");

        notifier.stopping();
        got = sock.drain();
        REQUIRE(got.size() == 1);
        CHECK(got[0] == "STOPPING=1");
        CHECK(notifier.counters().messagesSent == 4);
    }
    fx.finish();
}

TEST_CASE("STATUS is throttled, the latest text wins and nothing is lost at the end") {
    NotifySocket sock;
    ScopedEnv socketEnv("NOTIFY_SOCKET", sock.path().c_str());
    ScopedEnv noWatchdog("WATCHDOG_USEC", nullptr);
    LoopFixture fx;
    {
        SystemdNotifier notifier(&fx.loop, SystemdNotifier::Options{50ms});
        notifier.status("0/3 registered");
        auto got = sock.drain();
        REQUIRE(got.size() == 1);  // the first one goes out at once
        CHECK(got[0] == "STATUS=0/3 registered");

        notifier.status("1/3 registered");
        notifier.status("2/3 registered");
        CHECK(sock.drain().empty());  // held back by the interval
        REQUIRE(fx.runUntil([&] { return notifier.counters().statusSent == 2; }, "throttled STATUS"));
        got = sock.drain();
        REQUIRE(got.size() == 1);
        CHECK(got[0] == "STATUS=2/3 registered");
        CHECK(notifier.counters().statusCoalesced == 1);

        // An unchanged text is not repeated.
        fx.runFor(60);
        notifier.status("2/3 registered");
        CHECK(sock.drain().empty());

        // A last update just before stopping is flushed ahead of STOPPING=1.
        notifier.status("3/3 registered");
        notifier.status("stopping: 3 lines unregistering");
        notifier.stopping();
        got = sock.drain();
        REQUIRE(got.size() >= 2);
        CHECK(got[got.size() - 2] == "STATUS=stopping: 3 lines unregistering");
        CHECK(got.back() == "STOPPING=1");
        CHECK(notifier.lastStatusSent() == "stopping: 3 lines unregistering");
    }
    fx.finish();
}

TEST_CASE("close flushes a pending STATUS") {
    NotifySocket sock;
    ScopedEnv socketEnv("NOTIFY_SOCKET", sock.path().c_str());
    ScopedEnv noWatchdog("WATCHDOG_USEC", nullptr);
    LoopFixture fx;
    {
        SystemdNotifier notifier(&fx.loop, SystemdNotifier::Options{10s});
        notifier.status("a");
        notifier.status("b");
        notifier.close();
        auto got = sock.drain();
        REQUIRE(got.size() == 2);
        CHECK(got[1] == "STATUS=b");
    }
    fx.finish();
}

TEST_CASE("WATCHDOG=1 is sent at half of WATCHDOG_USEC") {
    NotifySocket sock;
    ScopedEnv socketEnv("NOTIFY_SOCKET", sock.path().c_str());
    ScopedEnv watchdog("WATCHDOG_USEC", "60000");  // 60 ms: pings every 30 ms
    ScopedEnv watchdogPid("WATCHDOG_PID", std::to_string(getpid()).c_str());
    LoopFixture fx;
    {
        SystemdNotifier notifier(&fx.loop);
        REQUIRE(notifier.watchdogPingInterval().has_value());
        CHECK(*notifier.watchdogPingInterval() == 30ms);

        std::vector<std::chrono::steady_clock::time_point> pings;
        const auto start = std::chrono::steady_clock::now();
        REQUIRE(fx.runUntil(
            [&] {
                for (const auto& m : sock.drain()) {
                    if (m == "WATCHDOG=1") pings.push_back(std::chrono::steady_clock::now());
                }
                return pings.size() >= 6;
            },
            "six watchdog pings"));
        const auto elapsed = pings.back() - start;
        // Six pings at 30 ms take about 180 ms: not much faster (a ping storm), and each
        // gap well inside WATCHDOG_USEC on an idle loop.
        CHECK(elapsed >= 150ms);
        for (std::size_t i = 1; i < pings.size(); ++i) {
            CHECK(pings[i] - pings[i - 1] >= 20ms);
            CHECK(pings[i] - pings[i - 1] <= 100ms);  // generous: a loaded CI machine delays timers
        }
        CHECK(notifier.counters().watchdogPings >= 6);
    }
    fx.finish();
}

TEST_CASE("a WATCHDOG_PID naming another process disables the pings") {
    NotifySocket sock;
    ScopedEnv socketEnv("NOTIFY_SOCKET", sock.path().c_str());
    ScopedEnv watchdog("WATCHDOG_USEC", "60000");
    ScopedEnv watchdogPid("WATCHDOG_PID", std::to_string(getpid() + 1).c_str());
    LoopFixture fx;
    {
        SystemdNotifier notifier(&fx.loop);
        CHECK_FALSE(notifier.watchdogPingInterval().has_value());
        fx.runFor(80);
        CHECK(sock.drain().empty());
    }
    fx.finish();
}

TEST_CASE("a NOTIFY_SOCKET nobody listens on counts errors instead of failing") {
    ScopedEnv socketEnv("NOTIFY_SOCKET", "/nonexistent-dir/notify.sock");
    ScopedEnv noWatchdog("WATCHDOG_USEC", nullptr);
    LoopFixture fx;
    {
        SystemdNotifier notifier(&fx.loop);
        CHECK(notifier.enabled());
        notifier.ready();
        CHECK(notifier.counters().sendErrors == 1);
        CHECK(notifier.counters().messagesSent == 0);
    }
    fx.finish();
}
