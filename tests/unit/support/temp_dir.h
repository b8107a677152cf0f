// A directory of a test's own under the system's temporary directory (mkdtemp, so its name is
// unique), removed with everything in it when the object goes. `path` is canonical: tests that
// compare paths a host or server reports see the same spelling.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <string>
#include <string_view>

namespace reliant::testing {

struct TempDir {
  std::filesystem::path path;

  explicit TempDir(std::string_view prefix = "reliant-test") {
    // mkdtemp's template: it replaces the six trailing X with a unique suffix.
    constexpr std::string_view kMkdtempSuffix = "-XXXXXX";
    std::string pattern = (std::filesystem::temp_directory_path() /
                           (std::string(prefix) + std::string(kMkdtempSuffix)))
                              .string();
    const bool made = ::mkdtemp(pattern.data()) != nullptr;
    EXPECT_TRUE(made) << "mkdtemp " << pattern;
    if (made) path = std::filesystem::canonical(pattern);
  }
  ~TempDir() {
    std::error_code ignored;
    if (!path.empty()) std::filesystem::remove_all(path, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  std::string string() const { return path.string(); }
};

}  // namespace reliant::testing
