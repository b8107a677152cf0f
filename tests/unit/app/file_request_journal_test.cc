// The daemon's request journal on disk: what a crashed or stopped process started is known to
// the next one, the file stays bounded, and files from before the mapping (or cut short by a
// crash) read back.
#include "app/file_request_journal.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "unit/support/temp_dir.h"

namespace reliant {
namespace {

std::string id_of(int n) { return "req-" + std::to_string(n) + "-4f1c2a9e-7d3b-4c55-9a0e"; }

std::unique_ptr<FileRequestJournal> open_journal(const std::string& path,
                                                 std::size_t capacity = 65536) {
  auto journal = FileRequestJournal::open(path, capacity);
  EXPECT_TRUE(journal) << (journal ? "" : journal.error().message);
  return journal ? std::move(*journal) : nullptr;
}

std::string file_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

TEST(FileRequestJournal, WhatAProcessStartedIsKnownAfterItIsKilled) {
  testing::TempDir dir;
  const std::string path = dir.string() + "/journal";
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // No destructor runs: the ids are only in the mapping when the process dies.
    auto journal = FileRequestJournal::open(path);
    if (!journal) ::_exit(2);
    for (int i = 0; i < 1000; ++i) (*journal)->add(id_of(i));
    ::raise(SIGKILL);
    ::_exit(3);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the child exited with " << WEXITSTATUS(status);

  auto journal = open_journal(path);  // the lock went with the process
  ASSERT_NE(journal, nullptr);
  for (int i = 0; i < 1000; ++i) EXPECT_TRUE(journal->contains(id_of(i))) << i;
  EXPECT_FALSE(journal->contains(id_of(1000)));
  EXPECT_EQ(journal->ids_in_file(), 1000U);
}

TEST(FileRequestJournal, IsPrivateAndHeldByOneProcessAtATime) {
  testing::TempDir dir;
  const std::string path = dir.string() + "/journal";
  auto journal = open_journal(path);
  ASSERT_NE(journal, nullptr);
  struct stat file {};
  ASSERT_EQ(::stat(path.c_str(), &file), 0);
  EXPECT_EQ(file.st_mode & 0777, 0600U);
  auto second = FileRequestJournal::open(path);
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, ErrorCode::already_exists);
  EXPECT_NE(second.error().message.find("pid " + std::to_string(::getpid())), std::string::npos)
      << second.error().message;
}

TEST(FileRequestJournal, KeepsTheNewestIdsWithinTwiceItsCapacity) {
  testing::TempDir dir;
  const std::string path = dir.string() + "/journal";
  constexpr std::size_t kCapacity = 50;
  {
    auto journal = open_journal(path, kCapacity);
    ASSERT_NE(journal, nullptr);
    for (int i = 0; i < 1000; ++i) {
      journal->add(id_of(i));
      ASSERT_LT(journal->ids_in_file(), 2 * kCapacity) << i;
    }
    journal->add(id_of(999));  // a repeat is not a line of its own
  }
  auto journal = open_journal(path, kCapacity);
  ASSERT_NE(journal, nullptr);
  for (int i = 1000 - static_cast<int>(kCapacity); i < 1000; ++i)
    EXPECT_TRUE(journal->contains(id_of(i))) << i;
  EXPECT_FALSE(journal->contains(id_of(0)));
  EXPECT_FALSE(journal->contains(id_of(900)));
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  // The file itself holds only whole lines: the rewrite kept the newest, in order.
  const std::string text = file_text(path);
  const std::string lines = text.substr(0, text.find('\0'));
  EXPECT_EQ(lines.back(), '\n');
  EXPECT_EQ(lines.rfind(id_of(999) + "\n"), lines.size() - id_of(999).size() - 1);
}

TEST(FileRequestJournal, GrowsPastItsFirstMapping) {
  testing::TempDir dir;
  const std::string path = dir.string() + "/journal";
  constexpr int kIds = 40000;  // ~1.5 MB of lines: more than the first mapping holds
  {
    auto journal = open_journal(path);
    ASSERT_NE(journal, nullptr);
    for (int i = 0; i < kIds; ++i) journal->add(id_of(i));
  }
  auto journal = open_journal(path);
  ASSERT_NE(journal, nullptr);
  EXPECT_EQ(journal->ids_in_file(), static_cast<std::size_t>(kIds));
  for (int i = 0; i < kIds; i += 997) EXPECT_TRUE(journal->contains(id_of(i))) << i;
  EXPECT_TRUE(journal->contains(id_of(kIds - 1)));
}

TEST(FileRequestJournal, ReadsALineAtATimeFileAndOneCutShortByACrash) {
  testing::TempDir dir;
  const std::string path = dir.string() + "/journal";
  {
    // As written before the mapping: lines and nothing after; the last cut by a crash.
    std::ofstream out(path, std::ios::binary);
    out << "first\n\nsecond\nthi";
  }
  {
    auto journal = open_journal(path);
    ASSERT_NE(journal, nullptr);
    EXPECT_TRUE(journal->contains("first"));
    EXPECT_TRUE(journal->contains("second"));
    EXPECT_TRUE(journal->contains("thi"));
    EXPECT_FALSE(journal->contains(""));
    journal->add("fourth");
  }
  auto journal = open_journal(path);
  ASSERT_NE(journal, nullptr);
  EXPECT_TRUE(journal->contains("thi"));
  EXPECT_TRUE(journal->contains("fourth"));
  EXPECT_FALSE(journal->contains("thifourth"));
  EXPECT_EQ(journal->ids_in_file(), 4U);
}

}  // namespace
}  // namespace reliant
