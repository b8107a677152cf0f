// Signing JWTs in tests: fresh RSA or P-256 keys, tokens in the JWS compact form.
#pragma once

#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <string>

#include <nlohmann/json.hpp>

#include "base/base64url.h"

namespace reliant::testing {

using Json = nlohmann::json;

inline std::string b64url(const std::string& in) { return base64url_encode(in); }

struct KeyPair {
  EVP_PKEY* pkey;
  std::string alg;
  explicit KeyPair(bool rsa) : alg(rsa ? "RS256" : "ES256") {
    pkey = rsa ? EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(2048))
               : EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  }
  ~KeyPair() { EVP_PKEY_free(pkey); }
  std::string public_pem() const {
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PUBKEY(bio, pkey);
    char* data = nullptr;
    const long length = BIO_get_mem_data(bio, &data);
    std::string pem(data, static_cast<std::size_t>(length));
    BIO_free(bio);
    return pem;
  }
  std::string sign(const std::string& input) const {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, pkey);
    std::size_t length = 0;
    EVP_DigestSign(ctx, nullptr, &length, reinterpret_cast<const unsigned char*>(input.data()),
                   input.size());
    std::string sig(length, '\0');
    EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &length,
                   reinterpret_cast<const unsigned char*>(input.data()), input.size());
    EVP_MD_CTX_free(ctx);
    sig.resize(length);
    if (alg == "RS256") return sig;
    // DER → r‖s, as JWS wants it.
    const unsigned char* p = reinterpret_cast<const unsigned char*>(sig.data());
    ECDSA_SIG* parsed = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size()));
    std::string raw(64, '\0');
    BN_bn2binpad(ECDSA_SIG_get0_r(parsed), reinterpret_cast<unsigned char*>(raw.data()), 32);
    BN_bn2binpad(ECDSA_SIG_get0_s(parsed), reinterpret_cast<unsigned char*>(raw.data()) + 32, 32);
    ECDSA_SIG_free(parsed);
    return raw;
  }
  std::string token(const Json& claims, const std::string& header_alg = "") const {
    return token_with_header(Json{{"alg", header_alg.empty() ? alg : header_alg}, {"typ", "JWT"}},
                             claims);
  }
  // Signed with this key whatever the header says.
  std::string token_with_header(const Json& header, const Json& claims) const {
    const std::string signed_part = b64url(header.dump()) + "." + b64url(claims.dump());
    return signed_part + "." + b64url(sign(signed_part));
  }
};

}  // namespace reliant::testing
