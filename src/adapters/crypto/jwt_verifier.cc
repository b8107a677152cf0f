// JWT verification with OpenSSL's EVP interface; claims read with nlohmann-json, never thrown.
#include "adapters/crypto/jwt_verifier.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cmath>
#include <cstdint>
#include <optional>

#include <nlohmann/json.hpp>

#include "base/base64url.h"
#include "base/json_parse.h"

namespace reliant {

struct JwtVerifier::Key {
  EVP_PKEY* pkey = nullptr;
  std::string alg;  // the one algorithm this key verifies: RS256 or ES256
  ~Key() { EVP_PKEY_free(pkey); }
};

namespace {

using Json = nlohmann::json;

Error refused(std::string why) {
  return {ErrorCode::unauthenticated, "invalid token: " + std::move(why)};
}

// ES256 signatures are r‖s (64 bytes); OpenSSL verifies DER.
std::optional<std::string> es256_to_der(const std::string& raw) {
  if (raw.size() != 64) return std::nullopt;
  ECDSA_SIG* sig = ECDSA_SIG_new();
  BIGNUM* r = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()), 32, nullptr);
  BIGNUM* s = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()) + 32, 32, nullptr);
  if (sig == nullptr || r == nullptr || s == nullptr || ECDSA_SIG_set0(sig, r, s) != 1) {
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(sig);
    return std::nullopt;
  }
  unsigned char* der = nullptr;
  const int length = i2d_ECDSA_SIG(sig, &der);
  ECDSA_SIG_free(sig);
  if (length <= 0) return std::nullopt;
  std::string out(reinterpret_cast<char*>(der), static_cast<std::size_t>(length));
  OPENSSL_free(der);
  return out;
}

// The latest NumericDate accepted: 9999-12-31T23:59:59Z. Beyond any real token's lifetime, and
// small enough that turning it into milliseconds and adding the leeway cannot overflow.
constexpr std::int64_t kSecondsMax = 253'402'300'799;

// A NumericDate claim (RFC 7519 §2: exp, nbf, iat) as whole seconds since the epoch; nullopt
// when the token does not carry it. The JSON number is range-checked before it is converted:
// casting a double such as 1e300 to an integer is undefined behaviour. A string, a fraction, a
// negative number, NaN or infinity and anything past kSecondsMax make the token invalid.
Result<std::optional<std::int64_t>> seconds_claim(const Json& claims, const char* name) {
  const auto it = claims.find(name);
  if (it == claims.end()) return std::optional<std::int64_t>();
  const auto bad = [name](const char* why) { return fail(refused(std::string(name) + why)); };
  if (it->is_number_unsigned()) {  // what the parser makes of a non-negative integer
    const auto value = it->get<std::uint64_t>();
    if (value > static_cast<std::uint64_t>(kSecondsMax)) return bad(" is out of range");
    return std::optional<std::int64_t>(static_cast<std::int64_t>(value));
  }
  if (it->is_number_integer()) {
    const auto value = it->get<std::int64_t>();
    if (value < 0) return bad(" is negative");
    if (value > kSecondsMax) return bad(" is out of range");
    return std::optional<std::int64_t>(value);
  }
  if (!it->is_number_float()) return bad(" is not a number of seconds");
  const double value = it->get<double>();
  if (!std::isfinite(value)) return bad(" is not a finite number");
  if (value < 0) return bad(" is negative");
  if (value > static_cast<double>(kSecondsMax)) return bad(" is out of range");
  if (value != std::floor(value)) return bad(" is not a whole number of seconds");
  // In range and whole: the conversion is exact.
  return std::optional<std::int64_t>(static_cast<std::int64_t>(value));
}

}  // namespace

JwtVerifier::JwtVerifier(std::unique_ptr<Key> key, JwtOptions options)
    : key_(std::move(key)), options_(std::move(options)) {}

JwtVerifier::~JwtVerifier() = default;

Result<std::unique_ptr<JwtVerifier>> JwtVerifier::create(JwtOptions options) {
  BIO* bio = BIO_new_mem_buf(options.public_key_pem.data(),
                             static_cast<int>(options.public_key_pem.size()));
  if (bio == nullptr) return fail(ErrorCode::internal, "out of memory reading the JWT public key");
  auto key = std::make_unique<Key>();
  key->pkey = PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (key->pkey == nullptr) {
    return fail(ErrorCode::invalid_argument,
                "the JWT public key is not a PEM public key (-----BEGIN PUBLIC KEY-----)");
  }
  switch (EVP_PKEY_base_id(key->pkey)) {
    case EVP_PKEY_RSA:
      key->alg = "RS256";
      break;
    case EVP_PKEY_EC:
      if (EVP_PKEY_bits(key->pkey) != 256) {
        return fail(ErrorCode::invalid_argument,
                    "the JWT public key is an EC key, but not P-256 (ES256)");
      }
      key->alg = "ES256";
      break;
    default:
      return fail(ErrorCode::invalid_argument,
                  "the JWT public key must be RSA (RS256) or EC P-256 (ES256)");
  }
  return std::unique_ptr<JwtVerifier>(new JwtVerifier(std::move(key), std::move(options)));
}

Result<VerifiedIdentity> JwtVerifier::verify(std::string_view token, std::int64_t now_ms) const {
  const auto first = token.find('.');
  const auto second = first == std::string_view::npos ? first : token.find('.', first + 1);
  if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos) {
    return fail(refused("not a JWT (header.payload.signature)"));
  }
  auto header_text = base64url_decode(token.substr(0, first));
  auto payload_text = base64url_decode(token.substr(first + 1, second - first - 1));
  auto signature = base64url_decode(token.substr(second + 1));
  if (!header_text || !payload_text || !signature) return fail(refused("not base64url"));
  // Read before the signature is checked, so from anyone: bounded like any request.
  const Json header = parse_json_or_discarded(*header_text);
  const Json claims = parse_json_or_discarded(*payload_text);
  if (!header.is_object() || !claims.is_object())
    return fail(refused("header or claims are not JSON objects"));
  const auto alg = header.find("alg");
  // The algorithm is the key's, never the token's choice ("none", or HS256 keyed with the
  // public key, are the classic forgeries).
  if (alg == header.end() || !alg->is_string() || alg->get<std::string>() != key_->alg) {
    return fail(refused("algorithm must be " + key_->alg));
  }
  // RFC 7515 §4.1.11: the extensions `crit` names must be understood, or the token refused.
  // This verifier understands none, so any `crit` (even an empty or malformed one) refuses it.
  if (header.contains("crit")) {
    return fail(refused("critical header extensions (crit) are not supported"));
  }
  std::string sig = *signature;
  if (key_->alg == "ES256") {
    auto der = es256_to_der(sig);
    if (!der) return fail(refused("malformed ES256 signature"));
    sig = std::move(*der);
  }
  const std::string_view signed_part = token.substr(0, second);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  const bool valid =
      ctx != nullptr &&
      EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, key_->pkey) == 1 &&
      EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                       reinterpret_cast<const unsigned char*>(signed_part.data()),
                       signed_part.size()) == 1;
  EVP_MD_CTX_free(ctx);
  if (!valid) return fail(refused("bad signature"));

  const auto exp = seconds_claim(claims, "exp");
  if (!exp) return fail(exp.error());
  if (!*exp) return fail(refused("no expiry (exp)"));
  if (now_ms >= **exp * 1000 + options_.leeway_ms) return fail(refused("expired"));
  const auto nbf = seconds_claim(claims, "nbf");
  if (!nbf) return fail(nbf.error());
  if (*nbf && now_ms + options_.leeway_ms < **nbf * 1000)
    return fail(refused("not valid yet (nbf)"));
  // Not used for a decision, but a token with a malformed iat is a malformed token.
  if (const auto iat = seconds_claim(claims, "iat"); !iat) return fail(iat.error());
  if (!options_.audience.empty()) {
    const auto aud = claims.find("aud");
    bool matches = false;
    if (aud != claims.end() && aud->is_string())
      matches = aud->get<std::string>() == options_.audience;
    if (aud != claims.end() && aud->is_array()) {
      for (const auto& a : *aud)
        matches = matches || (a.is_string() && a.get<std::string>() == options_.audience);
    }
    if (!matches) return fail(refused("audience is not " + options_.audience));
  }
  const auto sub = claims.find("sub");
  if (sub == claims.end() || !sub->is_string() || sub->get<std::string>().empty()) {
    return fail(refused("no subject (sub)"));
  }
  VerifiedIdentity identity{sub->get<std::string>(), "", **exp * 1000};
  if (const auto email = claims.find("email"); email != claims.end() && email->is_string()) {
    identity.email = email->get<std::string>();
  }
  return identity;
}

}  // namespace reliant
