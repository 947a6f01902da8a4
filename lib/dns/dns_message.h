#pragma once
// A DNS response in wire format (RFC 1035 4.1), parsed into the records SIP resolution uses:
// A, AAAA, CNAME, SRV (RFC 2782) and NAPTR (RFC 3403), each with its TTL. Other record types
// are skipped. The input comes from the network, so every length and every compression
// pointer is checked; a malformed packet is an error value, never undefined behaviour.
#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "util/result.h"

namespace sipreg::dns {

// Resource record types (RFC 1035 3.2.2, RFC 3596, RFC 2782, RFC 3403).
inline constexpr uint16_t kTypeA = 1;
inline constexpr uint16_t kTypeCname = 5;
inline constexpr uint16_t kTypeAaaa = 28;
inline constexpr uint16_t kTypeSrv = 33;
inline constexpr uint16_t kTypeNaptr = 35;
inline constexpr uint16_t kClassIn = 1;

// "A", "AAAA", "SRV", ... or "TYPE<n>".
std::string typeName(uint16_t type);

// Response codes (RFC 1035 4.1.1).
inline constexpr uint8_t kRcodeNoError = 0;
inline constexpr uint8_t kRcodeFormErr = 1;
inline constexpr uint8_t kRcodeServFail = 2;
inline constexpr uint8_t kRcodeNxDomain = 3;
inline constexpr uint8_t kRcodeNotImp = 4;
inline constexpr uint8_t kRcodeRefused = 5;

// "NOERROR", "NXDOMAIN", ... or "RCODE<n>".
std::string rcodeName(uint8_t rcode);

struct AddressData {
    std::array<uint8_t, 16> bytes{};  // IPv4 in the first 4 bytes
    bool ipv6 = false;
    bool operator==(const AddressData&) const = default;
};
struct CnameData {
    std::string target;
    bool operator==(const CnameData&) const = default;
};
struct SrvData {
    uint16_t priority = 0;
    uint16_t weight = 0;
    uint16_t port = 0;
    std::string target;  // "" for the root name ".": the service is decidedly not available
    bool operator==(const SrvData&) const = default;
};
struct NaptrData {
    uint16_t order = 0;
    uint16_t preference = 0;
    std::string flags;
    std::string service;
    std::string regexp;
    std::string replacement;  // "" for the root name
    bool operator==(const NaptrData&) const = default;
};

struct ResourceRecord {
    std::string name;  // owner name without the trailing dot, as received (case kept)
    uint16_t type = 0;
    uint32_t ttl = 0;  // seconds; values with the top bit set are read as 0 (RFC 2181 8)
    std::variant<AddressData, CnameData, SrvData, NaptrData> data;
};

struct DnsResponse {
    uint16_t id = 0;
    uint8_t rcode = 0;
    bool truncated = false;
    bool authoritative = false;
    std::string questionName;  // first question, "" when the packet carries none
    uint16_t questionType = 0;
    // Records of the supported types only, in packet order.
    std::vector<ResourceRecord> answers;
    std::vector<ResourceRecord> additionals;
};

// Limits that keep hostile packets cheap.
inline constexpr std::size_t kMaxNameLength = 255;     // RFC 1035 2.3.4, wire form
inline constexpr std::size_t kMaxCompressionJumps = 64;

Result<DnsResponse> parseDnsResponse(std::span<const uint8_t> packet);

// DNS names compare without regard to ASCII case (RFC 4343); a trailing dot is ignored.
bool sameName(std::string_view a, std::string_view b) noexcept;

}  // namespace sipreg::dns
