#include "tls_support/test_pki.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdlib>
#include <fstream>
#include <stdexcept>

namespace sipreg::net::testing {
namespace {

struct BioFree {
    void operator()(BIO* bio) const noexcept { BIO_free(bio); }
};

[[noreturn]] void fail(const std::string& what) { throw std::runtime_error("test PKI: " + what); }

EvpPkeyPtr newKey() {
    EvpPkeyPtr key(EVP_EC_gen("P-256"));
    if (!key) fail("EVP_EC_gen");
    return key;
}

void addExtension(X509* cert, X509* issuer, int nid, const std::string& value) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
    if (ext == nullptr) fail("extension " + value);
    const int ok = X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
    if (ok != 1) fail("X509_add_ext " + value);
}

X509Ptr newCertificate(const std::string& commonName, EVP_PKEY* subjectKey, long serial) {
    X509Ptr cert(X509_new());
    if (!cert) fail("X509_new");
    X509_set_version(cert.get(), X509_VERSION_3);
    ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial);
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), 24 * 3600);
    X509_set_pubkey(cert.get(), subjectKey);
    X509_NAME* name = X509_get_subject_name(cert.get());
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("sipregd tests"), -1,
                               -1, 0);
    if (!commonName.empty()) {
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(commonName.c_str()),
                                   -1, -1, 0);
    }
    return cert;
}

std::string bioText(BIO* bio) {
    char* data = nullptr;
    const long length = BIO_get_mem_data(bio, &data);
    return std::string(data, static_cast<std::size_t>(length));
}

long nextSerial() {
    static long serial = 1;
    return ++serial;
}

}  // namespace

void X509Free::operator()(X509* cert) const noexcept { X509_free(cert); }
void EvpPkeyFree::operator()(EVP_PKEY* key) const noexcept { EVP_PKEY_free(key); }

std::string Credential::certPem() const {
    std::unique_ptr<BIO, BioFree> bio(BIO_new(BIO_s_mem()));
    if (!bio || PEM_write_bio_X509(bio.get(), cert.get()) != 1) fail("PEM_write_bio_X509");
    return bioText(bio.get());
}

std::string Credential::keyPem() const {
    std::unique_ptr<BIO, BioFree> bio(BIO_new(BIO_s_mem()));
    if (!bio || PEM_write_bio_PrivateKey(bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
        fail("PEM_write_bio_PrivateKey");
    }
    return bioText(bio.get());
}

TestCa::TestCa(const std::string& commonName) {
    root_.key = newKey();
    root_.cert = newCertificate(commonName, root_.key.get(), nextSerial());
    X509_set_issuer_name(root_.cert.get(), X509_get_subject_name(root_.cert.get()));
    addExtension(root_.cert.get(), root_.cert.get(), NID_basic_constraints, "critical,CA:TRUE");
    addExtension(root_.cert.get(), root_.cert.get(), NID_key_usage, "critical,keyCertSign,cRLSign");
    addExtension(root_.cert.get(), root_.cert.get(), NID_subject_key_identifier, "hash");
    if (X509_sign(root_.cert.get(), root_.key.get(), EVP_sha256()) == 0) fail("X509_sign CA");
}

Credential TestCa::issue(const CertificateSpec& spec) const {
    Credential leaf;
    leaf.key = newKey();
    leaf.cert = newCertificate(spec.commonName, leaf.key.get(), nextSerial());
    X509_set_issuer_name(leaf.cert.get(), X509_get_subject_name(root_.cert.get()));
    addExtension(leaf.cert.get(), root_.cert.get(), NID_basic_constraints, "CA:FALSE");
    addExtension(leaf.cert.get(), root_.cert.get(), NID_authority_key_identifier, "keyid");
    if (!spec.subjectAltNames.empty()) {
        std::string joined;
        for (const auto& name : spec.subjectAltNames) joined += (joined.empty() ? "" : ",") + name;
        addExtension(leaf.cert.get(), root_.cert.get(), NID_subject_alt_name, joined);
    }
    if (X509_sign(leaf.cert.get(), root_.key.get(), EVP_sha256()) == 0) fail("X509_sign leaf");
    return leaf;
}

TempDir::TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "sipreg-tls-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) fail("mkdtemp");
    path_ = pattern;
}

TempDir::~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
}

std::string TempDir::write(const std::string& name, const std::string& content) const {
    const auto file = path_ / name;
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out << content;
    if (!out) fail("cannot write " + file.string());
    return file.string();
}

}  // namespace sipreg::net::testing
