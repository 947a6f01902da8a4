#include "dns/dns_message.h"

#include <cstring>

namespace sipreg::dns {

namespace {

constexpr std::size_t kHeaderSize = 12;
constexpr std::size_t kRecordFixedSize = 10;  // type, class, ttl, rdlength

class Reader {
public:
    explicit Reader(std::span<const uint8_t> packet) : p_(packet) {}

    std::size_t size() const noexcept { return p_.size(); }
    uint8_t byteAt(std::size_t i) const noexcept { return p_[i]; }
    uint16_t u16(std::size_t at) const noexcept {
        return static_cast<uint16_t>((p_[at] << 8) | p_[at + 1]);
    }
    uint32_t u32(std::size_t at) const noexcept {
        return (static_cast<uint32_t>(p_[at]) << 24) | (static_cast<uint32_t>(p_[at + 1]) << 16) |
               (static_cast<uint32_t>(p_[at + 2]) << 8) | static_cast<uint32_t>(p_[at + 3]);
    }
    bool has(std::size_t at, std::size_t n) const noexcept { return at <= p_.size() && n <= p_.size() - at; }

    // Reads a possibly compressed name starting at `pos`; `pos` moves past the name's bytes
    // at its original place (a pointer counts two bytes wherever it leads).
    Result<std::string> name(std::size_t& pos) const {
        std::string out;
        std::size_t cur = pos;
        std::size_t end = 0;
        bool jumped = false;
        std::size_t jumps = 0;
        std::size_t wireLength = 1;  // the final root label
        for (;;) {
            if (cur >= p_.size()) return makeError("name runs past the end of the packet", cur);
            const uint8_t len = p_[cur];
            if ((len & 0xC0) == 0xC0) {
                if (cur + 1 >= p_.size()) return makeError("compression pointer cut off", cur);
                const std::size_t target = (static_cast<std::size_t>(len & 0x3F) << 8) | p_[cur + 1];
                if (!jumped) end = cur + 2;
                jumped = true;
                if (++jumps > kMaxCompressionJumps) return makeError("compression pointer loop", cur);
                if (target >= p_.size()) return makeError("compression pointer past the end of the packet", cur);
                cur = target;
                continue;
            }
            if ((len & 0xC0) != 0) return makeError("unsupported label type", cur);
            if (len == 0) {
                if (!jumped) end = cur + 1;
                break;
            }
            wireLength += len + 1u;
            if (wireLength > kMaxNameLength) return makeError("name longer than 255 bytes", cur);
            if (!has(cur + 1, len)) return makeError("label runs past the end of the packet", cur);
            if (!out.empty()) out.push_back('.');
            for (std::size_t i = 0; i < len; ++i) {
                const uint8_t c = p_[cur + 1 + i];
                // A dot inside a label would make the text form ambiguous; control bytes have
                // no place in host names.
                if (c == '.' || c <= 0x20 || c >= 0x7F) return makeError("unsupported byte in a name label", cur + 1 + i);
                out.push_back(static_cast<char>(c));
            }
            cur += 1u + len;
        }
        pos = end;
        return out;
    }

    Result<std::string> characterString(std::size_t& pos, std::size_t limit) const {
        if (pos >= limit) return makeError("character-string runs past its record", pos);
        const std::size_t len = p_[pos];
        if (len > limit - pos - 1) return makeError("character-string runs past its record", pos);
        std::string out(reinterpret_cast<const char*>(p_.data() + pos + 1), len);
        pos += 1 + len;
        return out;
    }

private:
    std::span<const uint8_t> p_;
};

struct ParsedRecord {
    bool keep = false;  // a supported type of class IN
    ResourceRecord record;
};

Result<ParsedRecord> parseRecord(const Reader& r, std::size_t& pos) {
    const std::size_t start = pos;
    auto owner = r.name(pos);
    if (!owner) return owner.error();
    if (!r.has(pos, kRecordFixedSize)) return makeError("record header cut off", start);
    ParsedRecord out;
    const uint16_t type = r.u16(pos);
    const uint16_t klass = r.u16(pos + 2);
    uint32_t ttl = r.u32(pos + 4);
    const std::size_t rdLength = r.u16(pos + 8);
    pos += kRecordFixedSize;
    if (!r.has(pos, rdLength)) return makeError("record data runs past the end of the packet", start);
    const std::size_t rdStart = pos;
    const std::size_t rdEnd = pos + rdLength;
    pos = rdEnd;
    if (klass != kClassIn) return out;
    if ((ttl & 0x80000000u) != 0) ttl = 0;

    ResourceRecord& rec = out.record;
    rec.name = std::move(*owner);
    rec.type = type;
    rec.ttl = ttl;
    std::size_t at = rdStart;
    auto nameInData = [&](std::string& dest) -> Result<void> {
        auto n = r.name(at);
        if (!n) return n.error();
        if (at > rdEnd) return makeError("name runs past its record", rdStart);
        dest = std::move(*n);
        return {};
    };
    switch (type) {
        case kTypeA:
        case kTypeAaaa: {
            const std::size_t want = type == kTypeA ? 4 : 16;
            if (rdLength != want) return makeError(typeName(type) + " record with " + std::to_string(rdLength) + " data bytes", start);
            AddressData a;
            a.ipv6 = type == kTypeAaaa;
            for (std::size_t i = 0; i < want; ++i) a.bytes[i] = r.byteAt(rdStart + i);
            rec.data = a;
            at = rdEnd;
            break;
        }
        case kTypeCname: {
            CnameData c;
            if (auto ok = nameInData(c.target); !ok) return ok.error();
            rec.data = std::move(c);
            break;
        }
        case kTypeSrv: {
            if (rdLength < 7) return makeError("SRV record too short", start);
            SrvData s;
            s.priority = r.u16(at);
            s.weight = r.u16(at + 2);
            s.port = r.u16(at + 4);
            at += 6;
            if (auto ok = nameInData(s.target); !ok) return ok.error();
            rec.data = std::move(s);
            break;
        }
        case kTypeNaptr: {
            if (rdLength < 4) return makeError("NAPTR record too short", start);
            NaptrData n;
            n.order = r.u16(at);
            n.preference = r.u16(at + 2);
            at += 4;
            for (std::string* field : {&n.flags, &n.service, &n.regexp}) {
                auto s = r.characterString(at, rdEnd);
                if (!s) return s.error();
                *field = std::move(*s);
            }
            if (auto ok = nameInData(n.replacement); !ok) return ok.error();
            rec.data = std::move(n);
            break;
        }
        default:
            return out;
    }
    if (at != rdEnd) return makeError(typeName(type) + " record has trailing data", start);
    out.keep = true;
    return out;
}

}  // namespace

std::string typeName(uint16_t type) {
    switch (type) {
        case kTypeA: return "A";
        case kTypeCname: return "CNAME";
        case kTypeAaaa: return "AAAA";
        case kTypeSrv: return "SRV";
        case kTypeNaptr: return "NAPTR";
        default: return "TYPE" + std::to_string(type);
    }
}

std::string rcodeName(uint8_t rcode) {
    switch (rcode) {
        case kRcodeNoError: return "NOERROR";
        case kRcodeFormErr: return "FORMERR";
        case kRcodeServFail: return "SERVFAIL";
        case kRcodeNxDomain: return "NXDOMAIN";
        case kRcodeNotImp: return "NOTIMP";
        case kRcodeRefused: return "REFUSED";
        default: return "RCODE" + std::to_string(rcode);
    }
}

bool sameName(std::string_view a, std::string_view b) noexcept {
    if (!a.empty() && a.back() == '.') a.remove_suffix(1);
    if (!b.empty() && b.back() == '.') b.remove_suffix(1);
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; };
        if (lower(a[i]) != lower(b[i])) return false;
    }
    return true;
}

Result<DnsResponse> parseDnsResponse(std::span<const uint8_t> packet) {
    const Reader r(packet);
    if (!r.has(0, kHeaderSize)) return makeError("DNS response shorter than its 12-byte header", 0);
    DnsResponse out;
    out.id = r.u16(0);
    const uint16_t flags = r.u16(2);
    if ((flags & 0x8000) == 0) return makeError("DNS packet is a query, not a response", 2);
    out.authoritative = (flags & 0x0400) != 0;
    out.truncated = (flags & 0x0200) != 0;
    out.rcode = static_cast<uint8_t>(flags & 0x000F);
    const std::size_t qdCount = r.u16(4);
    const std::size_t anCount = r.u16(6);
    const std::size_t nsCount = r.u16(8);
    const std::size_t arCount = r.u16(10);

    std::size_t pos = kHeaderSize;
    // A truncated response may stop anywhere; what arrived complete is still usable.
    for (std::size_t i = 0; i < qdCount; ++i) {
        auto qname = r.name(pos);
        if (!qname) {
            if (out.truncated) return out;
            return qname.error();
        }
        if (!r.has(pos, 4)) {
            if (out.truncated) return out;
            return makeError("question cut off", pos);
        }
        if (i == 0) {
            out.questionName = std::move(*qname);
            out.questionType = r.u16(pos);
        }
        pos += 4;
    }
    struct Section {
        std::size_t count;
        std::vector<ResourceRecord>* into;
    };
    const Section sections[] = {{anCount, &out.answers}, {nsCount, nullptr}, {arCount, &out.additionals}};
    for (const Section& section : sections) {
        for (std::size_t i = 0; i < section.count; ++i) {
            auto rec = parseRecord(r, pos);
            if (!rec) {
                if (out.truncated) return out;
                return rec.error();
            }
            if (rec->keep && section.into != nullptr) section.into->push_back(std::move(rec->record));
        }
    }
    return out;
}

}  // namespace sipreg::dns
