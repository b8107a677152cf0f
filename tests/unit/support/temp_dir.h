// A directory of a test's own under the system's temporary directory (owner-only, like
// mkdtemp's), removed with everything in it when the object goes. `path` is canonical: tests
// that compare paths a host or server reports see the same spelling.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <random>
#include <string>
#include <string_view>
#include <system_error>

namespace reliant::testing {

struct TempDir {
  std::filesystem::path path;

  explicit TempDir(std::string_view prefix = "reliant-test") {
    namespace fs = std::filesystem;
    // "<prefix>-<pid>-<count>-<random>": unique within this process by the count, and against
    // other processes by the pid and the random part. create_directory reports a name that
    // exists already (a leftover of a crashed run) as not created, so the next name is tried.
    static std::atomic<std::uint64_t> made{0};
    std::random_device random;
    std::error_code error;
    for (int attempt = 0; attempt < kAttemptsMax && path.empty(); ++attempt) {
      const fs::path candidate =
          fs::temp_directory_path() /
          (std::string(prefix) + "-" + std::to_string(::getpid()) + "-" +
           std::to_string(++made) + "-" + std::to_string(random()));
      if (fs::create_directory(candidate, error)) {
        fs::permissions(candidate, fs::perms::owner_all, error);
        path = fs::canonical(candidate, error);
      }
    }
    EXPECT_FALSE(path.empty()) << "no temporary directory for " << prefix << ": "
                               << error.message();
  }
  ~TempDir() {
    std::error_code ignored;
    if (!path.empty()) std::filesystem::remove_all(path, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  std::string string() const { return path.string(); }

 private:
  static constexpr int kAttemptsMax = 16;
};

}  // namespace reliant::testing
