// PasswordHasher: makes and checks the salted, deliberately slow hashes passwords are stored
// as. A port because the work is expensive on purpose: the real adapter computes it off the
// executor (a login must not stall every other request), tests use a fast stand-in.
#pragma once

#include <string>

#include "runtime/task.h"

namespace reliant {

class PasswordHasher {
 public:
  virtual ~PasswordHasher() = default;
  // A self-describing string (scheme, parameters, salt, hash) to store in place of `password`.
  virtual Task<std::string> hash(std::string password) = 0;
  // Whether `password` matches `stored` (compared in constant time); false for a malformed or
  // foreign `stored`.
  virtual Task<bool> verify(std::string password, std::string stored) = 0;
};

}  // namespace reliant
