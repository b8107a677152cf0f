// Self-signed certificate generation with OpenSSL (an EC P-256 key).
#include "app/self_signed_tls.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <memory>

#include "app/data_dir.h"

namespace reliant {
namespace {

template <class T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
using KeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using CertPtr = std::unique_ptr<X509, Deleter<X509, X509_free>>;

Result<void> write_pem(const std::string& path, mode_t mode, bool key, EVP_PKEY* pkey, X509* cert) {
  // Created with its mode, so the key is never readable by others, not even for a moment.
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return fail(ErrorCode::unavailable, "cannot write " + path);
  ::fchmod(fd, mode);  // an existing file keeps its old mode otherwise
  FILE* out = ::fdopen(fd, "w");
  if (out == nullptr) {
    ::close(fd);
    return fail(ErrorCode::unavailable, "cannot write " + path);
  }
  const int ok = key ? PEM_write_PrivateKey(out, pkey, nullptr, nullptr, 0, nullptr, nullptr)
                     : PEM_write_X509(out, cert);
  std::fclose(out);
  if (ok != 1) return fail(ErrorCode::internal, "cannot encode " + path);
  return {};
}

}  // namespace

Result<TlsFiles> ensure_self_signed_tls(const std::string& data_dir) {
  const std::string dir = data_dir + "/tls";
  TlsFiles files{dir + "/cert.pem", dir + "/key.pem"};
  std::error_code ec;
  if (std::filesystem::exists(files.cert_file, ec) && std::filesystem::exists(files.key_file, ec))
    return files;
  if (auto made = ensure_private_directory(dir); !made) return fail(made.error());

  KeyPtr key(EVP_EC_gen("P-256"));
  if (!key) return fail(ErrorCode::internal, "cannot generate a TLS key");
  CertPtr cert(X509_new());
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), static_cast<long>(std::time(nullptr)));
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -60);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 10L * 365 * 24 * 3600);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
  if (X509_EXTENSION* san = X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name,
                                                "DNS:localhost,IP:127.0.0.1,IP:::1")) {
    X509_add_ext(cert.get(), san, -1);
    X509_EXTENSION_free(san);
  }
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0)
    return fail(ErrorCode::internal, "cannot sign the TLS certificate");
  if (auto ok = write_pem(files.key_file, 0600, true, key.get(), nullptr); !ok)
    return fail(ok.error());
  if (auto ok = write_pem(files.cert_file, 0644, false, nullptr, cert.get()); !ok)
    return fail(ok.error());
  return files;
}

Result<std::optional<TlsFiles>> server_tls_files(bool disable_tls, const std::string& cert_file,
                                                 const std::string& key_file,
                                                 const std::string& data_dir) {
  if (disable_tls) return std::optional<TlsFiles>();
  if (cert_file.empty() != key_file.empty())
    return fail(ErrorCode::invalid_argument, "--tls-cert and --tls-key go together");
  if (!cert_file.empty()) return std::optional<TlsFiles>(TlsFiles{cert_file, key_file});
  auto generated = ensure_self_signed_tls(data_dir);
  if (!generated) return fail(generated.error());
  spdlog::info(
      "TLS with a self-signed certificate ({}): clients trust that file (SSL_CERT_FILE, "
      "--tls-ca) or skip verification (--tls-mode insecure_tls_skip_verify)",
      generated->cert_file);
  return std::optional<TlsFiles>(*generated);
}

}  // namespace reliant
