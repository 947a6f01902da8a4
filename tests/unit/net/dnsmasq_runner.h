#pragma once
// Runs /usr/sbin/dnsmasq in the foreground on a free loopback port for one test, serving
// only the records the test gives. Readiness is probed with a real query (bounded), and
// the process is stopped by its pid when the runner goes away.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <string>
#include <vector>

extern char** environ;

namespace sipreg::net::testing {

class DnsmasqRunner {
public:
    // `records`: dnsmasq options such as "--srv-host=...", "--host-record=...".
    // `ipv6`: also listen on ::1.
    explicit DnsmasqRunner(std::vector<std::string> records, bool ipv6 = false) {
        port_ = pickFreePort(ipv6);
        if (port_ == 0) return;
        std::vector<std::string> args{
            "/usr/sbin/dnsmasq", "--no-daemon", "--conf-file=/dev/null", "--pid-file=",
            "--port=" + std::to_string(port_), std::string("--listen-address=127.0.0.1") + (ipv6 ? ",::1" : ""),
            "--bind-interfaces", "--no-resolv", "--no-hosts", "--local=/example.test/",
            "--local-ttl=120", "--log-facility=/dev/null"};
        args.insert(args.end(), records.begin(), records.end());
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);

        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
        pid_t pid = -1;
        if (posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ) == 0) pid_ = pid;
        posix_spawn_file_actions_destroy(&actions);
        if (pid_ > 0) ready_ = waitUntilAnswering();
    }

    ~DnsmasqRunner() {
        if (pid_ <= 0) return;
        // Wait up to 2 s for the exit through a pidfd, then SIGKILL.
        const int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid_, 0));
        kill(pid_, SIGTERM);
        if (pidfd >= 0) {
            pollfd p{pidfd, POLLIN, 0};
            poll(&p, 1, 2000);
            close(pidfd);
        }
        if (waitpid(pid_, nullptr, WNOHANG) == pid_) return;
        kill(pid_, SIGKILL);
        waitpid(pid_, nullptr, 0);
    }
    DnsmasqRunner(const DnsmasqRunner&) = delete;
    DnsmasqRunner& operator=(const DnsmasqRunner&) = delete;

    bool ready() const noexcept { return ready_; }
    uint16_t port() const noexcept { return port_; }
    std::string serverV4() const { return "127.0.0.1:" + std::to_string(port_); }
    std::string serverV6() const { return "[::1]:" + std::to_string(port_); }

private:
    // A port free for UDP and TCP on 127.0.0.1 (and ::1 when asked), as dnsmasq binds both.
    static uint16_t pickFreePort(bool ipv6) {
        for (int attempt = 0; attempt < 20; ++attempt) {
            int u = socket(AF_INET, SOCK_DGRAM, 0);
            sockaddr_in a{};
            a.sin_family = AF_INET;
            a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            socklen_t len = sizeof a;
            if (u < 0 || bind(u, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
                getsockname(u, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
                if (u >= 0) close(u);
                continue;
            }
            const uint16_t port = ntohs(a.sin_port);
            bool ok = canBind(AF_INET, SOCK_STREAM, port);
            if (ok && ipv6) ok = canBind(AF_INET6, SOCK_DGRAM, port) && canBind(AF_INET6, SOCK_STREAM, port);
            close(u);
            if (ok) return port;
        }
        return 0;
    }

    static bool canBind(int family, int type, uint16_t port) {
        int s = socket(family, type, 0);
        if (s < 0) return false;
        int on = 1;
        setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
        bool ok = false;
        if (family == AF_INET) {
            sockaddr_in a{};
            a.sin_family = AF_INET;
            a.sin_port = htons(port);
            a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            ok = bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
        } else {
            setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
            sockaddr_in6 a{};
            a.sin6_family = AF_INET6;
            a.sin6_port = htons(port);
            a.sin6_addr = in6addr_loopback;
            ok = bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
        }
        close(s);
        return ok;
    }

    // Sends a query for "probe.example.test" A until any response arrives (at most ~5 s).
    bool waitUntilAnswering() {
        const uint8_t query[] = {0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
                                 5, 'p', 'r', 'o', 'b', 'e', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e',
                                 4, 't', 'e', 's', 't', 0, 0, 1, 0, 1};
        int s = socket(AF_INET, SOCK_DGRAM, 0);
        if (s < 0) return false;
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(port_);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        bool answered = false;
        for (int attempt = 0; attempt < 50 && !answered; ++attempt) {
            if (waitpid(pid_, nullptr, WNOHANG) == pid_) {
                pid_ = -1;  // exited (bad option or port taken)
                break;
            }
            sendto(s, query, sizeof query, 0, reinterpret_cast<sockaddr*>(&a), sizeof a);
            pollfd p{s, POLLIN, 0};
            if (poll(&p, 1, 100) == 1) {
                uint8_t buf[512];
                answered = recv(s, buf, sizeof buf, 0) > 0;
            }
        }
        close(s);
        return answered;
    }

    uint16_t port_ = 0;
    pid_t pid_ = -1;
    bool ready_ = false;
};

}  // namespace sipreg::net::testing
