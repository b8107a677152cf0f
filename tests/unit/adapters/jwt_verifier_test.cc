// JwtVerifier against tokens signed here with fresh RSA and P-256 keys: valid ones pass; a bad
// signature, another key, `alg: none` or HS256, expiry, nbf, audience and malformed input fail.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cstdint>
#include <limits>

#include <nlohmann/json.hpp>

#include "adapters/crypto/jwt_verifier.h"
#include "unit/support/jwt_signer.h"

namespace reliant {
namespace {

using testing::b64url;
using testing::KeyPair;

using Json = nlohmann::json;
constexpr std::int64_t kNow = 1'800'000'000'000;  // ms

Json claims(std::int64_t exp_s = kNow / 1000 + 3600) {
  return {
      {"sub", "user-7"}, {"email", "ada@example.com"}, {"aud", "authenticated"}, {"exp", exp_s}};
}

std::unique_ptr<JwtVerifier> verifier_for(const KeyPair& key,
                                          std::string audience = "authenticated") {
  auto made = JwtVerifier::create({key.public_pem(), std::move(audience)});
  EXPECT_TRUE(made.has_value()) << made.error().message;
  return std::move(*made);
}

void expect_refused(const Result<VerifiedIdentity>& result, const std::string& why) {
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, ErrorCode::unauthenticated);
  EXPECT_NE(result.error().message.find(why), std::string::npos) << result.error().message;
}

TEST(JwtVerifier, AcceptsValidRs256AndEs256Tokens) {
  for (bool rsa : {true, false}) {
    KeyPair key(rsa);
    auto verifier = verifier_for(key);
    auto identity = verifier->verify(key.token(claims()), kNow);
    ASSERT_TRUE(identity.has_value()) << key.alg << ": " << identity.error().message;
    EXPECT_EQ(identity->subject, "user-7");
    EXPECT_EQ(identity->email, "ada@example.com");
    Json listed = claims();
    listed["aud"] = Json::array({"other", "authenticated"});
    EXPECT_TRUE(verifier->verify(key.token(listed), kNow).has_value()) << "an audience list";
  }
}

TEST(JwtVerifier, RefusesForgeriesAndStaleTokens) {
  KeyPair key(false);
  KeyPair other(false);
  auto verifier = verifier_for(key);
  expect_refused(verifier->verify(other.token(claims()), kNow), "bad signature");
  std::string tampered = key.token(claims());
  tampered[tampered.find('.') + 3] ^= 1;
  EXPECT_FALSE(verifier->verify(tampered, kNow).has_value());
  // The algorithm is the key's: "none" and HS256 (keyed with the public key) are refused.
  const std::string unsigned_token =
      b64url(R"({"alg":"none"})") + "." + b64url(claims().dump()) + ".";
  expect_refused(verifier->verify(unsigned_token, kNow), "algorithm must be ES256");
  expect_refused(verifier->verify(key.token(claims(), "HS256"), kNow), "algorithm must be ES256");
  expect_refused(verifier->verify(key.token(claims(kNow / 1000 - 120)), kNow), "expired");
  EXPECT_TRUE(verifier->verify(key.token(claims(kNow / 1000 - 10)), kNow).has_value())
      << "within the leeway";
  Json early = claims();
  early["nbf"] = kNow / 1000 + 600;
  expect_refused(verifier->verify(key.token(early), kNow), "not valid yet");
  Json elsewhere = claims();
  elsewhere["aud"] = "someone-else";
  expect_refused(verifier->verify(key.token(elsewhere), kNow), "audience");
  Json no_exp = claims();
  no_exp.erase("exp");
  expect_refused(verifier->verify(key.token(no_exp), kNow), "no expiry");
  Json no_sub = claims();
  no_sub.erase("sub");
  expect_refused(verifier->verify(key.token(no_sub), kNow), "no subject");
  for (const char* garbage : {"", "abc", "a.b", "a.b.c.d", "!!.??.**", "e30.e30.e30"}) {
    EXPECT_FALSE(verifier->verify(garbage, kNow).has_value()) << garbage;
  }
}

// RFC 7515 §4.1.11: a header naming critical extensions this verifier does not understand (it
// understands none) refuses the token, however well signed.
TEST(JwtVerifier, RefusesCriticalHeaderExtensions) {
  for (bool rsa : {true, false}) {
    KeyPair key(rsa);
    auto verifier = verifier_for(key);
    for (const Json& crit :
         {Json::array({"exp"}), Json::array({"b64"}), Json::array(), Json("x")}) {
      Json header = {{"alg", key.alg}, {"typ", "JWT"}, {"crit", crit}, {"exp", 1}, {"b64", false}};
      expect_refused(verifier->verify(key.token_with_header(header, claims()), kNow),
                     "critical header extensions");
    }
    EXPECT_TRUE(
        verifier->verify(key.token_with_header({{"alg", key.alg}, {"kid", "k1"}}, claims()), kNow)
            .has_value())
        << "other header parameters are fine";
  }
}

// exp, nbf and iat are read as whole seconds in range, without converting an out-of-range
// double to an integer (undefined behaviour: 1e300 used to be refused only by luck).
TEST(JwtVerifier, RefusesTimeClaimsThatAreNotWholeSecondsInRange) {
  KeyPair key(false);
  auto verifier = verifier_for(key);
  const auto with = [&](const char* name, const Json& value) {
    Json c = claims();
    c[name] = value;
    return verifier->verify(key.token(c), kNow);
  };
  expect_refused(with("exp", 1e300), "exp is out of range");
  expect_refused(with("exp", -1), "exp is negative");
  expect_refused(with("exp", -1e300), "exp is negative");
  expect_refused(with("exp", 1.5), "exp is not a whole number");
  expect_refused(with("exp", kNow / 1000 + 3600.5), "exp is not a whole number");
  expect_refused(with("exp", "123"), "exp is not a number");
  expect_refused(with("exp", Json::array({kNow / 1000 + 3600})), "exp is not a number");
  expect_refused(with("exp", nullptr), "exp is not a number");
  expect_refused(with("exp", std::uint64_t{1} << 63), "exp is out of range");
  expect_refused(with("exp", std::numeric_limits<std::uint64_t>::max()), "exp is out of range");
  expect_refused(with("exp", 253'402'300'800), "exp is out of range");  // after 9999-12-31
  expect_refused(with("nbf", 1e300), "nbf is out of range");
  expect_refused(with("nbf", -5), "nbf is negative");
  expect_refused(with("iat", "yesterday"), "iat is not a number");
  expect_refused(with("iat", 0.25), "iat is not a whole number");
  // Numbers JSON cannot write, spelled out in the payload: refused, whatever the parser makes of
  // them.
  for (const std::string raw_exp : {"1e999", "-1e999", "1e309"}) {
    const std::string head = b64url(Json{{"alg", key.alg}, {"typ", "JWT"}}.dump());
    const std::string payload = R"({"sub":"user-7","aud":"authenticated","exp":)" + raw_exp + "}";
    const std::string signed_part = head + "." + b64url(payload);
    const auto verified = verifier->verify(signed_part + "." + b64url(key.sign(signed_part)), kNow);
    ASSERT_FALSE(verified.has_value()) << raw_exp;
    EXPECT_EQ(verified.error().code, ErrorCode::unauthenticated) << raw_exp;
  }
  // Whole seconds are fine however they are written, up to the last second of 9999.
  EXPECT_TRUE(with("exp", static_cast<double>(kNow / 1000 + 3600)).has_value())
      << "1.8e9 as a float";
  EXPECT_TRUE(with("exp", 253'402'300'799).has_value());
  EXPECT_TRUE(with("nbf", kNow / 1000 - 60).has_value());
  EXPECT_TRUE(with("iat", kNow / 1000 - 60).has_value());
}

// The header and claims are read before the signature is checked, so anyone can send them:
// nesting 100,000 deep (issue 15) is refused like any other garbage, without a crash.
TEST(JwtVerifier, RefusesDeeplyNestedHeadersAndClaims) {
  KeyPair key(false);
  auto verifier = verifier_for(key);
  const std::string deep = std::string(100'000, '[') + std::string(100'000, ']');
  const std::string good = key.token(claims());
  const std::string signature = good.substr(good.rfind('.'));
  expect_refused(verifier->verify(b64url(deep) + "." + b64url(claims().dump()) + signature, kNow),
                 "not JSON objects");
  std::string claims_text = claims().dump();
  claims_text.insert(claims_text.size() - 1, ",\"x\":" + deep);
  const std::string head = good.substr(0, good.find('.'));
  expect_refused(verifier->verify(head + "." + b64url(claims_text) + signature, kNow),
                 "not JSON objects");
  EXPECT_TRUE(verifier->verify(good, kNow).has_value());
}

TEST(JwtVerifier, RefusesKeysItCannotUse) {
  EXPECT_EQ(JwtVerifier::create({"not a key", ""}).error().code, ErrorCode::invalid_argument);
  EVP_PKEY* p384 = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384");
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(bio, p384);
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio, &data);
  auto made = JwtVerifier::create({std::string(data, static_cast<std::size_t>(length)), ""});
  BIO_free(bio);
  EVP_PKEY_free(p384);
  ASSERT_FALSE(made.has_value());
  EXPECT_NE(made.error().message.find("P-256"), std::string::npos);
}

}  // namespace
}  // namespace reliant
