// A directory of a test's own under the system's temporary directory, made by mkdtemp (a unique
// name, created owner-only in one step), removed with everything in it when the object goes.
// `path` is canonical: tests that compare paths a host or server reports see the same spelling.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>

namespace reliant::testing {

struct TempDir {
  std::filesystem::path path;

  explicit TempDir(std::string_view prefix = "reliant-test") {
    // mkdtemp(3) requires its template to end in exactly these six characters, and replaces
    // them with ones that make the name unique.
    constexpr std::string_view kUniqueSuffixPattern = "XXXXXX";
    std::string name = (std::filesystem::temp_directory_path() /
                        (std::string(prefix) + "-" + std::string(kUniqueSuffixPattern)))
                           .string();
    const bool made = ::mkdtemp(name.data()) != nullptr;
    EXPECT_TRUE(made) << "mkdtemp " << name;
    if (made) path = std::filesystem::canonical(name);
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
