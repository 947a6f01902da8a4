// Measures parseDatagram on the two responses a registration client sees most (a 401 challenge
// and a 200 OK to REGISTER), alone and followed by the typed accessors the client reads. Heap
// allocations are counted by replacing the global operator new/delete in this executable.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <string>
#include <string_view>

#include <time.h>

#include "sip/typed_headers.h"

namespace {

std::atomic<uint64_t> gAllocations{0};

}  // namespace

void* operator new(std::size_t size) {
    gAllocations.fetch_add(1, std::memory_order_relaxed);
    if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
    throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void* operator new[](std::size_t size) { return operator new(size); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

namespace {

using namespace sipreg::sip;

const std::string kChallenge401 =
    "SIP/2.0 401 Unauthorized\r\n"
    "Via: SIP/2.0/UDP 192.0.2.4:5060;branch=z9hG4bK74bf9a21c8d3e;rport=5060;received=198.51.100.23\r\n"
    "From: <sip:alice@example.com>;tag=9fxced76sl\r\n"
    "To: <sip:alice@example.com>;tag=37GkEhwl6\r\n"
    "Call-ID: 3848276298220188511@192.0.2.4\r\n"
    "CSeq: 1 REGISTER\r\n"
    "WWW-Authenticate: Digest realm=\"example.com\", nonce=\"ZGI2ZTVlOTgtNmUzYi00N2M4LTk1YzAtOTg3ZDNiMmQ1ZjE0\", "
    "qop=\"auth\", algorithm=MD5, opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"\r\n"
    "Server: ExampleRegistrar/5.7\r\n"
    "Content-Length: 0\r\n"
    "\r\n";

const std::string kRegister200 =
    "SIP/2.0 200 OK\r\n"
    "Via: SIP/2.0/UDP 192.0.2.4:5060;branch=z9hG4bK74bf9a21c8d3f;rport=5060;received=198.51.100.23\r\n"
    "From: <sip:alice@example.com>;tag=9fxced76sl\r\n"
    "To: <sip:alice@example.com>;tag=37GkEhwl6\r\n"
    "Call-ID: 3848276298220188511@192.0.2.4\r\n"
    "CSeq: 2 REGISTER\r\n"
    "Contact: <sip:alice@198.51.100.23:5060;transport=udp>;expires=3600;"
    "+sip.instance=\"<urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6>\";reg-id=1\r\n"
    "Expires: 3600\r\n"
    "Date: Sat, 13 Nov 2010 23:29:00 GMT\r\n"
    "Server: ExampleRegistrar/5.7\r\n"
    "Content-Length: 0\r\n"
    "\r\n";

volatile uint64_t gSink = 0;

// What a registration client reads from a final response to REGISTER.
uint64_t readLikeAClient(const Message& m) {
    uint64_t acc = static_cast<uint64_t>(m.statusCode());
    if (auto v = vias(m); v && !v->empty()) acc += (*v)[0].branch().size() + (*v)[0].rport().value_or(0);
    if (auto c = cseq(m)) acc += c->number;
    if (auto id = callId(m)) acc += id->size();
    if (auto to = toHeader(m)) acc += to->tag().size();
    if (m.statusCode() == 401) {
        if (auto w = wwwAuthenticate(m); w && !w->empty()) {
            const ParamList& p = (*w)[0].params;
            acc += p.unquoted("realm").value_or("").size() + p.unquoted("nonce").value_or("").size();
            acc += p.unquoted("qop").value_or("").size() + p.unquoted("opaque").value_or("").size();
            if (const GenericParam* alg = p.find("algorithm")) acc += alg->value.size();
        }
    } else {
        if (auto c = contacts(m)) {
            for (const auto& cv : *c) acc += cv.expires().value_or(0) + cv.regId().value_or(0);
        }
        if (auto e = expires(m); e && *e) acc += **e;
    }
    return acc;
}

struct Figures {
    double nsPerMessage = 0;     // wall clock
    double cpuNsPerMessage = 0;  // this thread's CPU time: less disturbed by other load
    double allocationsPerMessage = 0;
};

double threadCpuNs() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

template <class Body>
Figures measure(int iterations, Body&& body) {
    for (int i = 0; i < iterations / 100; ++i) body();  // warm-up
    const uint64_t allocBefore = gAllocations.load();
    const double cpuStart = threadCpuNs();
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < iterations; ++i) body();
    const auto stop = std::chrono::steady_clock::now();
    const double cpuStop = threadCpuNs();
    const uint64_t allocAfter = gAllocations.load();
    Figures f;
    f.nsPerMessage = std::chrono::duration<double, std::nano>(stop - start).count() / iterations;
    f.cpuNsPerMessage = (cpuStop - cpuStart) / iterations;
    f.allocationsPerMessage = static_cast<double>(allocAfter - allocBefore) / iterations;
    return f;
}

void report(const char* name, std::size_t bytes, const Figures& f) {
    std::printf("%-28s %4zu bytes  %7.1f ns/msg wall  %7.1f ns/msg cpu  %5.2f allocs/msg\n", name, bytes,
                f.nsPerMessage, f.cpuNsPerMessage, f.allocationsPerMessage);
}

}  // namespace

int main(int argc, char** argv) {
    const int iterations = argc > 1 ? std::atoi(argv[1]) : 1000000;
    if (iterations <= 0) {
        std::fprintf(stderr, "usage: bench_parser [iterations]\n");
        return 2;
    }
    for (const std::string* msg : {&kChallenge401, &kRegister200}) {
        auto m = parseDatagram(*msg);
        if (!m || readLikeAClient(*m) == 0) {
            std::fprintf(stderr, "benchmark message does not parse\n");
            return 1;
        }
    }
    std::printf("iterations: %d\n", iterations);
    report("parse 401 challenge", kChallenge401.size(), measure(iterations, [] {
               auto m = parseDatagram(kChallenge401);
               gSink = gSink + m->headers().size();
           }));
    report("parse 200 OK to REGISTER", kRegister200.size(), measure(iterations, [] {
               auto m = parseDatagram(kRegister200);
               gSink = gSink + m->headers().size();
           }));
    report("parse + accessors, 401", kChallenge401.size(), measure(iterations, [] {
               auto m = parseDatagram(kChallenge401);
               gSink = gSink + readLikeAClient(*m);
           }));
    report("parse + accessors, 200 OK", kRegister200.size(), measure(iterations, [] {
               auto m = parseDatagram(kRegister200);
               gSink = gSink + readLikeAClient(*m);
           }));
    return 0;
}
