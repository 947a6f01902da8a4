#pragma once
// Builds DNS responses in wire format for tests (names written uncompressed unless a test
// appends raw bytes itself).
#include <arpa/inet.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "dns/dns_message.h"

namespace sipreg::dns::testing {

inline void appendU16(std::vector<uint8_t>& out, uint16_t v) {
    out.push_back(static_cast<uint8_t>(v >> 8));
    out.push_back(static_cast<uint8_t>(v & 0xff));
}

inline void appendU32(std::vector<uint8_t>& out, uint32_t v) {
    appendU16(out, static_cast<uint16_t>(v >> 16));
    appendU16(out, static_cast<uint16_t>(v & 0xffff));
}

// "a.example.test" -> 1 'a' 7 'example' 4 'test' 0; "" is the root name.
inline void appendName(std::vector<uint8_t>& out, std::string_view name) {
    while (!name.empty()) {
        const auto dot = name.find('.');
        const std::string_view label = name.substr(0, dot);
        out.push_back(static_cast<uint8_t>(label.size()));
        out.insert(out.end(), label.begin(), label.end());
        if (dot == std::string_view::npos) break;
        name.remove_prefix(dot + 1);
    }
    out.push_back(0);
}

class DnsPacketBuilder {
public:
    DnsPacketBuilder& id(uint16_t v) { id_ = v; return *this; }
    DnsPacketBuilder& rcode(uint8_t v) { rcode_ = v; return *this; }
    DnsPacketBuilder& truncated(bool v = true) { tc_ = v; return *this; }
    DnsPacketBuilder& query() { response_ = false; return *this; }
    DnsPacketBuilder& question(std::string_view name, uint16_t type) {
        appendName(questions_, name);
        appendU16(questions_, type);
        appendU16(questions_, kClassIn);
        ++qd_;
        return *this;
    }
    // Records go to the answer section until authority() or additional() switches.
    DnsPacketBuilder& authority() { section_ = 1; return *this; }
    DnsPacketBuilder& additional() { section_ = 2; return *this; }

    DnsPacketBuilder& a(std::string_view name, const char* ip, uint32_t ttl = 300) {
        std::vector<uint8_t> rd(4);
        if (inet_pton(AF_INET, ip, rd.data()) != 1) throw std::invalid_argument(ip);
        return record(name, kTypeA, ttl, rd);
    }
    DnsPacketBuilder& aaaa(std::string_view name, const char* ip, uint32_t ttl = 300) {
        std::vector<uint8_t> rd(16);
        if (inet_pton(AF_INET6, ip, rd.data()) != 1) throw std::invalid_argument(ip);
        return record(name, kTypeAaaa, ttl, rd);
    }
    DnsPacketBuilder& cname(std::string_view name, std::string_view target, uint32_t ttl = 300) {
        std::vector<uint8_t> rd;
        appendName(rd, target);
        return record(name, kTypeCname, ttl, rd);
    }
    DnsPacketBuilder& srv(std::string_view name, uint16_t priority, uint16_t weight, uint16_t port,
                          std::string_view target, uint32_t ttl = 300) {
        std::vector<uint8_t> rd;
        appendU16(rd, priority);
        appendU16(rd, weight);
        appendU16(rd, port);
        appendName(rd, target);
        return record(name, kTypeSrv, ttl, rd);
    }
    DnsPacketBuilder& naptr(std::string_view name, uint16_t order, uint16_t preference, std::string_view flags,
                            std::string_view service, std::string_view regexp, std::string_view replacement,
                            uint32_t ttl = 300) {
        std::vector<uint8_t> rd;
        appendU16(rd, order);
        appendU16(rd, preference);
        for (std::string_view s : {flags, service, regexp}) {
            rd.push_back(static_cast<uint8_t>(s.size()));
            rd.insert(rd.end(), s.begin(), s.end());
        }
        appendName(rd, replacement);
        return record(name, kTypeNaptr, ttl, rd);
    }
    DnsPacketBuilder& record(std::string_view name, uint16_t type, uint32_t ttl, const std::vector<uint8_t>& rdata,
                             uint16_t klass = kClassIn) {
        std::vector<uint8_t>& out = sections_[section_];
        appendName(out, name);
        appendU16(out, type);
        appendU16(out, klass);
        appendU32(out, ttl);
        appendU16(out, static_cast<uint16_t>(rdata.size()));
        out.insert(out.end(), rdata.begin(), rdata.end());
        ++counts_[section_];
        return *this;
    }

    std::vector<uint8_t> build() const {
        std::vector<uint8_t> out;
        appendU16(out, id_);
        uint16_t flags = 0x0100;  // RD
        if (response_) flags |= 0x8000 | 0x0080;  // QR, RA
        if (tc_) flags |= 0x0200;
        flags |= rcode_ & 0x0f;
        appendU16(out, flags);
        appendU16(out, qd_);
        for (uint16_t c : counts_) appendU16(out, c);
        out.insert(out.end(), questions_.begin(), questions_.end());
        for (const auto& s : sections_) out.insert(out.end(), s.begin(), s.end());
        return out;
    }

    DnsResponse parsed() const {
        auto r = parseDnsResponse(build());
        if (!r) throw std::runtime_error("test packet does not parse: " + r.error().message);
        return std::move(r).value();
    }

private:
    uint16_t id_ = 0x1234;
    uint8_t rcode_ = 0;
    bool tc_ = false;
    bool response_ = true;
    uint16_t qd_ = 0;
    std::vector<uint8_t> questions_;
    std::vector<uint8_t> sections_[3];
    uint16_t counts_[3] = {0, 0, 0};
    int section_ = 0;
};

}  // namespace sipreg::dns::testing
