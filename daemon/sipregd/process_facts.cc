#include "process_facts.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>

namespace sipreg::daemon {
namespace {

std::optional<uint64_t> countOpenFds() {
    DIR* dir = ::opendir("/proc/self/fd");
    if (dir == nullptr) return std::nullopt;
    uint64_t n = 0;
    while (const dirent* e = ::readdir(dir)) {
        if (e->d_name[0] != '.') ++n;
    }
    ::closedir(dir);
    return n - 1;  // the directory stream's own descriptor
}

std::optional<uint64_t> residentBytes() {
    FILE* f = std::fopen("/proc/self/statm", "r");
    if (f == nullptr) return std::nullopt;
    unsigned long long size = 0;
    unsigned long long resident = 0;
    const int got = std::fscanf(f, "%llu %llu", &size, &resident);
    std::fclose(f);
    if (got != 2) return std::nullopt;
    return static_cast<uint64_t>(resident) * static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
}

double cpuSeconds() {
    rusage u{};
    if (::getrusage(RUSAGE_SELF, &u) != 0) return 0;
    auto secs = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
    return secs(u.ru_utime) + secs(u.ru_stime);
}

}  // namespace

metrics::ProcessFacts readProcessFacts(uv_loop_t* loop, const LatenessHistogram& timerLateness) {
    metrics::ProcessFacts p;
    p.timerLateness = timerLateness;
    uv_walk(
        loop,
        [](uv_handle_t* h, void* arg) {
            if (!uv_is_closing(h)) ++*static_cast<uint64_t*>(arg);
        },
        &p.loopHandles);
    p.openFds = countOpenFds();
    p.residentBytes = residentBytes();
    p.cpuSeconds = cpuSeconds();
    return p;
}

}  // namespace sipreg::daemon
