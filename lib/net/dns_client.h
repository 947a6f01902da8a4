#pragma once
// DNS queries through c-ares on the libuv loop: one uv_poll per socket c-ares opens (told
// through ARES_OPT_SOCK_STATE_CB) and one uv_timer for c-ares' retransmission deadline.
// Answers come back as the raw response packet, parsed by dns::parseDnsResponse, so every
// record type keeps its TTL. Nothing blocks.
#include <uv.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "util/result.h"

namespace sipreg::net {

// What SipResolver needs from a DNS client; tests put a scripted one in its place.
class DnsQuerier {
public:
    // The raw response (any rcode, NXDOMAIN included) or an error saying why none came.
    using Callback = std::function<void(Result<std::vector<uint8_t>>)>;
    virtual ~DnsQuerier() = default;
    // `done` runs once, later, from the loop; never from inside query() and never after the
    // querier is destroyed.
    virtual void query(std::string name, int type, Callback done) = 0;
};

class DnsClient final : public DnsQuerier {
public:
    struct Options {
        // "127.0.0.1:5353", "[::1]:53", "192.0.2.1" (port 53). Empty: the system resolver's
        // servers (/etc/resolv.conf).
        std::vector<std::string> servers;
        int timeoutMs = 2000;  // first try per server; c-ares doubles it on later rounds
        int tries = 2;         // rounds over the server list
    };

    // Fails on a malformed server string or when c-ares cannot start (e.g. no resolv.conf
    // servers and none given).
    static Result<std::unique_ptr<DnsClient>> create(uv_loop_t* loop, Options options);
    ~DnsClient() override;
    DnsClient(const DnsClient&) = delete;
    DnsClient& operator=(const DnsClient&) = delete;

    void query(std::string name, int type, Callback done) override;

    // Queries handed to c-ares whose answer has not been delivered yet.
    std::size_t pendingQueries() const noexcept;
    // Sockets c-ares holds open (each watched by one uv_poll).
    std::size_t openSockets() const noexcept;

    struct Impl;

private:
    explicit DnsClient(std::unique_ptr<Impl> impl);

    std::unique_ptr<Impl> impl_;
};

// Turns "host:port" server strings (IP literals only, port 53 when absent) into the CSV
// c-ares takes: "127.0.0.1:5353,[::1]:53".
Result<std::string> dnsServersCsv(const std::vector<std::string>& servers);

}  // namespace sipreg::net
