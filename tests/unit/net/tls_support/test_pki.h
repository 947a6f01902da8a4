#pragma once
// Throwaway certificate authorities and certificates for TLS tests, minted in memory with
// the OpenSSL 3 API (EC P-256, SHA-256, valid from an hour ago for a day).
#include <openssl/types.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace sipreg::net::testing {

struct X509Free {
    void operator()(X509* cert) const noexcept;
};
struct EvpPkeyFree {
    void operator()(EVP_PKEY* key) const noexcept;
};
using X509Ptr = std::unique_ptr<X509, X509Free>;
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, EvpPkeyFree>;

struct CertificateSpec {
    std::string commonName;
    // OpenSSL's subjectAltName syntax entries: "DNS:sip.example", "URI:sip:example", "IP:::1".
    std::vector<std::string> subjectAltNames;
};

struct Credential {
    EvpPkeyPtr key;
    X509Ptr cert;
    std::string certPem() const;
    std::string keyPem() const;
};

class TestCa {
public:
    explicit TestCa(const std::string& commonName);
    const Credential& root() const noexcept { return root_; }
    X509* cert() const noexcept { return root_.cert.get(); }
    Credential issue(const CertificateSpec& spec) const;  // a leaf signed by this CA

private:
    Credential root_;
};

// A directory under the system temp dir, removed with its contents on destruction.
class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const noexcept { return path_; }
    std::string write(const std::string& name, const std::string& content) const;  // returns full path

private:
    std::filesystem::path path_;
};

}  // namespace sipreg::net::testing
