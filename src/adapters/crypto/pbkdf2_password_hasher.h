// Pbkdf2PasswordHasher: the PasswordHasher port on OpenSSL's PBKDF2-HMAC-SHA256 with a random
// 16-byte salt (OWASP's 600,000 iterations by default). The work runs on a thread of its own
// and the result is posted back to the caller's executor.
#pragma once

#include <string>

#include "adapters/blocking/blocking_pool.h"
#include "runtime/executor.h"
#include "runtime/password_hasher.h"

namespace reliant {

class Pbkdf2PasswordHasher final : public PasswordHasher {
 public:
  static constexpr int kDefaultIterations = 600'000;

  explicit Pbkdf2PasswordHasher(Executor& executor, int iterations = kDefaultIterations);

  // "pbkdf2-sha256$<iterations>$<salt>$<hash>", salt and hash in base64url.
  Task<std::string> hash(std::string password) override;
  Task<bool> verify(std::string password, std::string stored) override;

  // The same, synchronously (for a CLI that has nothing else to do meanwhile).
  static std::string hash_now(const std::string& password, int iterations);
  static bool verify_now(const std::string& password, const std::string& stored);

 private:
  Executor& executor_;
  int iterations_;
  BlockingPool pool_;
};

}  // namespace reliant
