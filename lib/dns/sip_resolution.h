#pragma once
// The RFC 3263 client procedure (4.1 transport, 4.2 port and IP address) for one SIP target
// as a sans-I/O state machine: it asks for DNS questions, is fed the parsed answers (or a
// failure per question) and ends with a ResolvedSet or an error text.
//
//   IP literal                 -> no DNS at all
//   explicit port              -> A and AAAA of the host
//   transport, no port         -> SRV of that transport, else A/AAAA with its default port
//   neither                    -> NAPTR (SIP+D2U, SIP+D2T, SIPS+D2T), else SRV _sips._tcp,
//                                 _sip._tcp, _sip._udp; else A/AAAA over UDP (sips: TLS)
// A SIPS target only ever resolves to TLS.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dns/dns_message.h"
#include "dns/resolved_set.h"
#include "txn/txn_types.h"
#include "util/result.h"

namespace sipreg::dns {

struct ResolutionInput {
    std::string host;  // domain name or IP literal (IPv6 with or without brackets)
    bool hostIsIpLiteral = false;
    std::optional<uint16_t> port;
    std::optional<txn::TransportKind> transport;
    bool secure = false;  // sips: URI
};

struct DnsQuestion {
    std::string name;
    uint16_t type = 0;
    bool operator==(const DnsQuestion&) const = default;
};

inline constexpr uint16_t kDefaultSipPort = 5060;
inline constexpr uint16_t kDefaultSipsPort = 5061;
// Bounds on what one hostile or broken zone can make us ask.
inline constexpr std::size_t kMaxSrvTargets = 32;
inline constexpr std::size_t kMaxCnameChain = 8;

uint16_t defaultPort(txn::TransportKind transport) noexcept;

class SipResolution {
public:
    explicit SipResolution(ResolutionInput input);

    // Questions to send now; each is handed out once and then awaits onAnswer/onFailure.
    std::vector<DnsQuestion> takeQueries();
    // Answers to questions not outstanding are ignored.
    void onAnswer(const DnsQuestion& question, const DnsResponse& response);
    // The question got no usable response (timeout, server failure, unparsable packet).
    void onFailure(const DnsQuestion& question, std::string_view reason);

    bool done() const noexcept { return result_.has_value(); }
    std::size_t outstanding() const noexcept { return outstanding_; }
    // Only once done(): the set, or an error naming the host and each step that came up empty.
    const Result<ResolvedSet>& result() const { return *result_; }

private:
    enum class Phase { Naptr, Srv, Address };
    struct SrvQuery {
        SrvQuery(DnsQuestion q, txn::TransportKind t, std::size_t r)
            : question(std::move(q)), transport(t), rank(static_cast<uint16_t>(r)) {}
        DnsQuestion question;
        txn::TransportKind transport;
        uint16_t rank;
        bool answered = false;  // a response arrived (positive or negative)
        bool failed = false;    // no response
        std::vector<SrvData> records;
        uint32_t ttl = 0;
    };
    struct HostAddresses {
        std::vector<ResolvedAddress> v4, v6;
        uint32_t ttl = UINT32_MAX;
        bool v4Used = false, v6Used = false;  // the query returned records
    };

    void start();
    void ask(DnsQuestion q);
    void finishOk(ResolvedSet set);
    void finishError(std::string why);
    void note(std::string text);
    void useTtl(uint32_t ttl) noexcept;

    void startSrv(std::vector<SrvQuery> queries);
    void startAddresses(std::vector<ResolvedTarget> targets);
    void startHostAddresses();
    void afterNaptr(const DnsResponse* response);
    void afterSrv();
    void afterAddresses();

    ResolutionInput in_;
    Phase phase_ = Phase::Naptr;
    std::vector<DnsQuestion> outbox_;
    std::vector<DnsQuestion> waiting_;  // handed out, no answer yet
    std::size_t outstanding_ = 0;
    std::vector<SrvQuery> srv_;
    bool srvFromNaptr_ = false;
    std::vector<ResolvedTarget> targets_;
    std::map<std::string, HostAddresses> hosts_;  // lower-case name -> addresses
    uint32_t ttl_ = UINT32_MAX;
    std::vector<std::string> notes_;
    std::optional<Result<ResolvedSet>> result_;
};

}  // namespace sipreg::dns
