#include "net/tls_identity.h"

#include <arpa/inet.h>
#include <openssl/asn1.h>
#include <openssl/crypto.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <vector>

namespace sipreg::net {
namespace {

constexpr std::size_t kMaxListedNames = 8;
constexpr std::size_t kMaxListedNameLength = 80;

bool equalNoCase(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; };
        if (lower(a[i]) != lower(b[i])) return false;
    }
    return true;
}

std::string_view withoutTrailingDot(std::string_view s) {
    if (s.size() > 1 && s.back() == '.') s.remove_suffix(1);
    return s;
}

// The bytes of an ASN.1 string, or nullopt-like empty view plus false when it holds a NUL
// (a classic trick to make "good.example\0.evil" look like "good.example").
bool stringOf(const ASN1_STRING* s, std::string_view& out) {
    if (s == nullptr) return false;
    const int length = ASN1_STRING_length(s);
    const unsigned char* data = ASN1_STRING_get0_data(s);
    if (length < 0 || data == nullptr) return false;
    out = std::string_view(reinterpret_cast<const char*>(data), static_cast<std::size_t>(length));
    return out.find('\0') == std::string_view::npos;
}

// Printable form for messages: control and non-ASCII bytes escaped, length capped.
std::string printable(std::string_view s) {
    std::string out;
    for (char c : s) {
        if (out.size() >= kMaxListedNameLength) {
            out += "...";
            break;
        }
        const auto u = static_cast<unsigned char>(c);
        if (u >= 0x20 && u < 0x7f) {
            out += c;
        } else {
            static constexpr char kHex[] = "0123456789abcdef";
            out += "\\x";
            out += kHex[u >> 4];
            out += kHex[u & 0xf];
        }
    }
    return out;
}

std::string ipText(const unsigned char* bytes, int length) {
    char buffer[INET6_ADDRSTRLEN] = {};
    if (length == 4 && inet_ntop(AF_INET, bytes, buffer, sizeof buffer) != nullptr) return buffer;
    if (length == 16 && inet_ntop(AF_INET6, bytes, buffer, sizeof buffer) != nullptr) return buffer;
    return "<" + std::to_string(length) + "-byte address>";
}

struct GeneralNamesFree {
    void operator()(GENERAL_NAMES* names) const noexcept { GENERAL_NAMES_free(names); }
};

class NameList {
public:
    void add(std::string entry) {
        ++count_;
        if (entries_.size() < kMaxListedNames) entries_.push_back(std::move(entry));
    }
    std::string text() const {
        if (entries_.empty()) return "no usable names";
        std::string out;
        for (const auto& e : entries_) {
            if (!out.empty()) out += ", ";
            out += e;
        }
        if (count_ > entries_.size()) out += ", ... (" + std::to_string(count_) + " names)";
        return out;
    }

private:
    std::vector<std::string> entries_;
    std::size_t count_ = 0;
};

bool uriNamesDomain(std::string_view uri, std::string_view domain) {
    // RFC 5922 7.1: the URI is "sip:" followed by the domain alone (no user, port or
    // parameters); a sips: URI is not a valid identity.
    constexpr std::string_view kScheme = "sip:";
    if (uri.size() <= kScheme.size() || !equalNoCase(uri.substr(0, kScheme.size()), kScheme)) return false;
    return equalNoCase(withoutTrailingDot(uri.substr(kScheme.size())), domain);
}

}  // namespace

TlsPeerName parseTlsPeerName(std::string_view serverName) {
    TlsPeerName peer;
    std::string_view name = serverName;
    if (name.size() >= 2 && name.front() == '[' && name.back() == ']') name = name.substr(1, name.size() - 2);
    peer.name = std::string(withoutTrailingDot(name));
    if (peer.name.find(':') != std::string::npos) {
        peer.ipLiteral = true;  // never a DNS name, even when it fails to parse
        if (inet_pton(AF_INET6, peer.name.c_str(), peer.ip.data()) == 1) peer.ipLength = 16;
    } else if (inet_pton(AF_INET, peer.name.c_str(), peer.ip.data()) == 1) {
        peer.ipLiteral = true;
        peer.ipLength = 4;
    }
    return peer;
}

bool sniAllowed(const TlsPeerName& peer) {
    if (peer.ipLiteral || peer.name.empty() || peer.name.size() > 253) return false;
    return std::all_of(peer.name.begin(), peer.name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
               c == '.' || c == '_';
    });
}

Result<void> checkServerIdentity(X509* cert, const TlsPeerName& peer) {
    if (peer.name.empty()) return makeError("no server name to check the peer certificate against");
    if (cert == nullptr) return makeError("expected " + printable(peer.name) + "; peer sent no certificate");

    std::unique_ptr<GENERAL_NAMES, GeneralNamesFree> names(
        static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
    NameList seen;
    bool hasDnsOrUri = false;
    const int count = names ? sk_GENERAL_NAME_num(names.get()) : 0;
    for (int i = 0; i < count; ++i) {
        const GENERAL_NAME* entry = sk_GENERAL_NAME_value(names.get(), i);
        std::string_view value;
        switch (entry->type) {
            case GEN_DNS: {
                hasDnsOrUri = true;
                const bool clean = stringOf(entry->d.dNSName, value);
                seen.add("DNS:" + printable(value));
                if (clean && !peer.ipLiteral && equalNoCase(withoutTrailingDot(value), peer.name)) return {};
                break;
            }
            case GEN_URI: {
                hasDnsOrUri = true;
                const bool clean = stringOf(entry->d.uniformResourceIdentifier, value);
                seen.add("URI:" + printable(value));
                if (clean && !peer.ipLiteral && uriNamesDomain(value, peer.name)) return {};
                break;
            }
            case GEN_IPADD: {
                const ASN1_OCTET_STRING* ip = entry->d.iPAddress;
                const int length = ASN1_STRING_length(ip);
                const unsigned char* bytes = ASN1_STRING_get0_data(ip);
                seen.add("IP:" + ipText(bytes, length));
                if (peer.ipLiteral && peer.ipLength != 0 && length == static_cast<int>(peer.ipLength) &&
                    std::memcmp(bytes, peer.ip.data(), peer.ipLength) == 0) {
                    return {};
                }
                break;
            }
            default:
                break;
        }
    }

    // RFC 5922: the subject CN stands in only for a certificate without such names.
    if (!hasDnsOrUri) {
        X509_NAME* subject = X509_get_subject_name(cert);
        int index = -1;
        // Bounded by the number of subject entries.
        while (subject != nullptr && (index = X509_NAME_get_index_by_NID(subject, NID_commonName, index)) >= 0) {
            const ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, index));
            unsigned char* utf8 = nullptr;
            const int length = ASN1_STRING_to_UTF8(&utf8, data);
            if (length < 0) continue;
            const std::string cn(reinterpret_cast<const char*>(utf8), static_cast<std::size_t>(length));
            OPENSSL_free(utf8);
            seen.add("CN:" + printable(cn));
            if (!peer.ipLiteral && cn.find('\0') == std::string::npos &&
                equalNoCase(withoutTrailingDot(cn), peer.name)) {
                return {};
            }
        }
    }
    return makeError("expected " + printable(peer.name) + "; peer certificate is for " + seen.text());
}

}  // namespace sipreg::net
