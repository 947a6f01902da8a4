// Loads a generated configuration with many lines and reports how long load+validate takes.
//   bench_config [lines=10000] [runs=5]
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "config/loader.h"

namespace {

std::string generateConfig(int lines) {
    std::ostringstream out;
    out << "listen: [ { address: 0.0.0.0, port: 5060 }, { address: '::', port: 5060 } ]\n"
           "max_rate: 200\n"
           "defaults:\n"
           "  expires: 1h\n"
           "  retry: { base: 30s, max: 30m }\n"
           "  keepalive: 25s\n"
           "lines:\n";
    const char* transports[] = {"udp", "udp", "udp", "tcp", "tls"};
    for (int i = 0; i < lines; ++i) {
        const int registrar = i % 50;
        out << "  - id: line-" << i << "\n"
            << "    registrar: sip:registrar-" << registrar << ".example.net:5060\n"
            << "    aor: sip:+1555" << (1000000 + i) << "@example.net\n"
            << "    display_name: Line " << i << "\n"
            << "    transport: " << transports[i % 5] << "\n"
            << "    expires: " << (600 + (i % 7) * 60) << "\n"
            << "    auth:\n"
            << "      username: \"user" << i << "\"\n";
        if (i % 2 == 0) {
            out << "      password: secret-" << i << "\n";
        } else {
            out << "      password_env: BENCH_PASSWORD\n";
        }
        out << "      realm: example.net\n";
        if (i % 10 == 0) out << "    outbound_proxy: sip:sbc.example.net;lr\n";
    }
    return out.str();
}

// CPU time of this process: on a shared machine it varies less than wall time.
double cpuMillis() {
    struct rusage usage {};
    ::getrusage(RUSAGE_SELF, &usage);
    auto ms = [](const timeval& t) { return t.tv_sec * 1000.0 + t.tv_usec / 1000.0; };
    return ms(usage.ru_utime) + ms(usage.ru_stime);
}

long peakRssKiB() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.rfind("VmHWM:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
    }
    return -1;
}

}  // namespace

int main(int argc, char** argv) {
    const int lines = argc > 1 ? std::atoi(argv[1]) : 10000;
    const int runs = argc > 2 ? std::atoi(argv[2]) : 5;
    if (lines <= 0 || runs <= 0) {
        std::fprintf(stderr, "usage: bench_config [lines] [runs]\n");
        return 2;
    }

    const std::string yaml = generateConfig(lines);
    char pathTemplate[] = "/tmp/sipregd-bench-XXXXXX";
    const int fd = ::mkstemp(pathTemplate);
    if (fd < 0) return 1;
    ::close(fd);
    const std::string path = pathTemplate;
    {
        std::ofstream file(path, std::ios::binary);
        file << yaml;
    }

    sipreg::config::LoadOptions options;
    options.getEnv = [](const std::string& name) -> std::optional<std::string> {
        if (name == "BENCH_PASSWORD") return std::string("bench-secret");
        return std::nullopt;
    };

    const long rssBefore = peakRssKiB();
    std::vector<double> millis;
    std::vector<double> cpu;
    long rssAfterFirst = rssBefore;
    for (int run = 0; run < runs; ++run) {
        const double cpuStart = cpuMillis();
        const auto start = std::chrono::steady_clock::now();
        auto result = sipreg::config::loadConfigFile(path, options);
        const auto end = std::chrono::steady_clock::now();
        cpu.push_back(cpuMillis() - cpuStart);
        if (!result.ok() || result.config->lines.size() != static_cast<std::size_t>(lines)) {
            std::fprintf(stderr, "load failed: %zu errors\n", result.errors.size());
            for (const auto& e : result.errors) std::fprintf(stderr, "%s\n", e.toString().c_str());
            ::unlink(path.c_str());
            return 1;
        }
        millis.push_back(std::chrono::duration<double, std::milli>(end - start).count());
        if (run == 0) rssAfterFirst = peakRssKiB();
    }
    ::unlink(path.c_str());

    std::sort(millis.begin(), millis.end());
    std::sort(cpu.begin(), cpu.end());
    const double median = millis[millis.size() / 2];
    std::printf("config load+validate: %d lines, %zu bytes of YAML, %d runs\n", lines, yaml.size(), runs);
    std::printf("  min %.1f ms, median %.1f ms, max %.1f ms\n", millis.front(), median, millis.back());
    std::printf("  cpu min %.1f ms, median %.1f ms\n", cpu.front(), cpu[cpu.size() / 2]);
    std::printf("  %.0f lines/s (median wall time)\n", lines / (median / 1000.0));
    std::printf("  peak RSS delta (first load): %ld KiB\n", rssAfterFirst - rssBefore);
    return 0;
}
