// The Host contract (runtime/host.h), one typed suite for every Host: the simulator's and the
// real one must agree on what commands and file operations do, including their errors and
// bounds, so that what a scenario shows of the daemon's tools holds on a real machine.
//
// A harness type H provides:
//   H()                                   a fresh machine with an empty work directory
//   std::string work_dir() const          its absolute path
//   Host& host()                          a host whose working directory is work_dir()
//   std::unique_ptr<Host> confined_host() a host in work_dir()/inside with that directory as its
//                                         only workspace root
//   std::unique_ptr<Host> private_host()  the same, where work_dir()/inside/data/auth/token holds
//                                         "s3cret" and work_dir()/inside/data is excluded
//   Executor& executor()                  the hosts' executor
//   template <class T> T wait(Task<T>)    runs the machine until the task ends
//   void run_for(Duration)                runs the machine for a while
// (A confined host may or may not share its files with host(): the simulator's hosts are
// separate machines. The confinement case sets up through the confined host.)
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/path.h"
#include "runtime/host.h"
#include "runtime/scope.h"
#include "unit/support/await_into.h"

namespace reliant::contract {

// Matches every line, or those holding `wanted`.
class AnyLine final : public LineMatcher {
 public:
  explicit AnyLine(char wanted = '\0') : wanted_(wanted) {}
  bool matches(std::string_view line) const override {
    return wanted_ == '\0' || line.find(wanted_) != std::string_view::npos;
  }

 private:
  char wanted_;
};

template <class H>
class HostContract : public ::testing::Test {
 protected:
  H machine;
  Host& host() { return machine.host(); }
  std::string path(const std::string& relative) { return machine.work_dir() + "/" + relative; }

  template <class T>
  T wait(Task<T> task) {
    return machine.wait(std::move(task));
  }
  Result<ProcessOutcome> run(std::string command, Duration timeout = seconds(20),
                             std::size_t output_limit_bytes = 0, bool separate_stderr = false) {
    ProcessSpec spec;
    spec.command = std::move(command);
    spec.timeout = timeout;
    spec.output_limit_bytes = output_limit_bytes;
    spec.separate_stderr = separate_stderr;
    return wait(host().run(std::move(spec)));
  }
  void write(const std::string& relative, const std::string& content) {
    ASSERT_TRUE(wait(host().write_file(path(relative), content)).has_value()) << relative;
  }
};

TYPED_TEST_SUITE_P(HostContract);

TYPED_TEST_P(HostContract, ACommandGivesItsOutputAndExitCode) {
  auto ok = this->run("echo hello");
  ASSERT_TRUE(ok.has_value());
  EXPECT_EQ(ok->exit_code, 0);
  EXPECT_EQ(ok->output, "hello\n");
  EXPECT_FALSE(ok->timed_out);
  auto failed = this->run("echo no; exit 3");
  ASSERT_TRUE(failed.has_value()) << "a non-zero exit is an outcome, not an error";
  EXPECT_EQ(failed->exit_code, 3);
  EXPECT_EQ(failed->output, "no\n");
}

TYPED_TEST_P(HostContract, ACommandRunsInTheWorkingDirectory) {
  auto pwd = this->run("pwd");
  ASSERT_TRUE(pwd.has_value());
  EXPECT_EQ(pwd->output, this->machine.work_dir() + "\n");
  this->write("sub/file.txt", "x");
  ProcessSpec spec;
  spec.command = "pwd";
  spec.working_dir = "sub";  // relative to the host's working directory
  auto sub = this->wait(this->host().run(std::move(spec)));
  ASSERT_TRUE(sub.has_value());
  EXPECT_EQ(sub->output, this->path("sub") + "\n");
}

TYPED_TEST_P(HostContract, ATimeoutKillsTheCommand) {
  auto slow = this->run("sleep 30", milliseconds(300));
  ASSERT_TRUE(slow.has_value());
  EXPECT_TRUE(slow->timed_out);
  EXPECT_EQ(slow->exit_code, -1);
}

TYPED_TEST_P(HostContract, OutputBeyondTheLimitIsCountedNotKept) {
  auto out = this->run("echo 0123456789", seconds(20), 4);
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(out->output, "0123");
  EXPECT_TRUE(out->truncated);
  EXPECT_EQ(out->output_bytes, 11u);
}

TYPED_TEST_P(HostContract, StderrJoinsTheOutputUnlessKeptApart) {
  auto merged = this->run("echo out; echo err >&2; exit 3");
  ASSERT_TRUE(merged.has_value());
  EXPECT_EQ(merged->exit_code, 3);
  EXPECT_EQ(merged->output, "out\nerr\n");
  EXPECT_EQ(merged->error_output, "");
  EXPECT_EQ(merged->output_bytes, 8u);

  std::string streamed;
  ProcessSpec spec;
  spec.command = "echo out; echo err >&2; exit 3";
  spec.separate_stderr = true;
  spec.on_output = [&streamed](std::string_view chunk) { streamed.append(chunk); };
  auto apart = this->wait(this->host().run(std::move(spec)));
  ASSERT_TRUE(apart.has_value());
  EXPECT_EQ(apart->exit_code, 3);
  EXPECT_EQ(apart->output, "out\n");
  EXPECT_EQ(apart->error_output, "err\n");
  EXPECT_EQ(streamed, "out\n") << "on_output gets stdout only";
  EXPECT_EQ(apart->output_bytes, 8u) << "both streams";
  EXPECT_FALSE(apart->truncated);
}

TYPED_TEST_P(HostContract, TheLimitAppliesToEachStreamKeptApart) {
  auto both = this->run("echo 0123456789; echo abcdefghij >&2", seconds(20), 4, true);
  ASSERT_TRUE(both.has_value());
  EXPECT_EQ(both->output, "0123");
  EXPECT_EQ(both->error_output, "abcd");
  EXPECT_TRUE(both->truncated);
  EXPECT_EQ(both->output_bytes, 22u);
  auto only_stderr = this->run("echo 01; echo abcdefghij >&2", seconds(20), 4, true);
  ASSERT_TRUE(only_stderr.has_value());
  EXPECT_EQ(only_stderr->output, "01\n");
  EXPECT_EQ(only_stderr->error_output, "abcd");
  EXPECT_TRUE(only_stderr->truncated) << "either stream cut";
  auto fits = this->run("echo 01; echo ab >&2", seconds(20), 4, true);
  ASSERT_TRUE(fits.has_value());
  EXPECT_EQ(fits->error_output, "ab\n");
  EXPECT_FALSE(fits->truncated) << "each stream has the whole limit";
}

TYPED_TEST_P(HostContract, CancellingEndsTheCommandAndItsOutput) {
  std::optional<Result<ProcessOutcome>> out;
  std::size_t chunks = 0;
  {
    Scope call(this->machine.executor());
    ProcessSpec spec;
    spec.command = "sleep 30";
    spec.on_output = [&chunks](std::string_view) { ++chunks; };
    call.spawn(await_into(this->host().run(std::move(spec)), &out));
    this->machine.run_for(milliseconds(100));
  }  // cancelled here
  this->machine.run_for(milliseconds(100));
  EXPECT_FALSE(out.has_value());
  EXPECT_EQ(chunks, 0u);
}

TYPED_TEST_P(HostContract, FilesRoundTripAndCreateTheirDirectories) {
  this->write("a/b/c.txt", "content\n");
  auto read = this->wait(this->host().read_file(this->path("a/b/c.txt")));
  ASSERT_TRUE(read.has_value());
  EXPECT_EQ(*read, "content\n");
  auto relative = this->wait(this->host().read_file("a/b/c.txt"));
  ASSERT_TRUE(relative.has_value()) << "relative to the working directory";
  EXPECT_EQ(*relative, "content\n");
  this->write("a/b/c.txt", "replaced");
  EXPECT_EQ(*this->wait(this->host().read_file("a/b/c.txt")), "replaced");
  auto stat = this->wait(this->host().stat("a/b/c.txt"));
  ASSERT_TRUE(stat.has_value());
  EXPECT_EQ(stat->path, "a/b/c.txt") << "the path as given";
  EXPECT_EQ(stat->size_bytes, 8u);
  EXPECT_FALSE(stat->is_directory);
  EXPECT_TRUE(this->wait(this->host().stat("a/b"))->is_directory);
}

TYPED_TEST_P(HostContract, ListingsAreSortedAndSayWhatIsADirectory) {
  this->write("dir/b.txt", "bb");
  this->write("dir/a.txt", "a");
  this->write("dir/sub/x", "");
  auto listing = this->wait(this->host().list_directory(this->path("dir")));
  ASSERT_TRUE(listing.has_value());
  ASSERT_EQ(listing->size(), 3u);
  EXPECT_EQ((*listing)[0].path, this->path("dir/a.txt"));
  EXPECT_EQ((*listing)[0].size_bytes, 1u);
  EXPECT_FALSE((*listing)[0].is_directory);
  EXPECT_EQ((*listing)[1].path, this->path("dir/b.txt"));
  EXPECT_EQ((*listing)[2].path, this->path("dir/sub"));
  EXPECT_TRUE((*listing)[2].is_directory);
}

TYPED_TEST_P(HostContract, FileErrorsAreTheSameEverywhere) {
  this->write("file", "x");
  this->write("dir/inner", "y");
  EXPECT_EQ(this->wait(this->host().read_file("missing")).error().code, ErrorCode::not_found);
  EXPECT_EQ(this->wait(this->host().stat("missing")).error().code, ErrorCode::not_found);
  EXPECT_EQ(this->wait(this->host().list_directory("missing")).error().code, ErrorCode::not_found);
  EXPECT_EQ(this->wait(this->host().read_file("dir")).error().code, ErrorCode::invalid_argument);
  EXPECT_EQ(this->wait(this->host().list_directory("file")).error().code,
            ErrorCode::invalid_argument);
  EXPECT_EQ(this->wait(this->host().write_file("dir", "z")).error().code,
            ErrorCode::invalid_argument);
  EXPECT_EQ(this->wait(this->host().write_file("file/under", "z")).error().code,
            ErrorCode::invalid_argument);
}

TYPED_TEST_P(HostContract, ReadsAndListingsAreBounded) {
  this->write("ten", "0123456789");
  EXPECT_EQ(*this->wait(this->host().read_file("ten", 10)), "0123456789");
  EXPECT_EQ(this->wait(this->host().read_file("ten", 9)).error().code,
            ErrorCode::resource_exhausted);
  for (int i = 0; i < 5; ++i) this->write("five/" + std::to_string(i), "");
  EXPECT_EQ(this->wait(this->host().list_directory("five", 5))->size(), 5u);
  EXPECT_EQ(this->wait(this->host().list_directory("five", 4)).error().code,
            ErrorCode::resource_exhausted);
}

TYPED_TEST_P(HostContract, AConfinedHostNeverReachesOutsideItsRoots) {
  this->write("outside/secret", "s3cret");
  std::unique_ptr<Host> confined = this->machine.confined_host();
  ASSERT_TRUE(this->wait(confined->write_file("ok.txt", "ok")).has_value());
  EXPECT_EQ(*this->wait(confined->read_file("ok.txt")), "ok");
  EXPECT_TRUE(this->wait(confined->write_file("new/file", "fine")).has_value());
  for (const std::string& path :
       {std::string("../outside/secret"), this->path("outside/secret"),
        std::string("new/../../outside/secret"), std::string("/etc/passwd")}) {
    auto read = this->wait(confined->read_file(path));
    ASSERT_FALSE(read.has_value()) << path;
    EXPECT_EQ(read.error().code, ErrorCode::permission_denied) << path;
    EXPECT_EQ(this->wait(confined->stat(path)).error().code, ErrorCode::permission_denied);
  }
  EXPECT_EQ(this->wait(confined->list_directory("..")).error().code, ErrorCode::permission_denied);
  EXPECT_EQ(this->wait(confined->write_file("../outside/planted", "x")).error().code,
            ErrorCode::permission_denied);
  EXPECT_EQ(this->wait(this->host().read_file("outside/planted")).error().code,
            ErrorCode::not_found)
      << "nothing was written outside";
}

TYPED_TEST_P(HostContract, AProcessReadsWhatItsCallerWritesWhileItRuns) {
  auto input = std::make_shared<ProcessInput>();
  std::string heard;
  ProcessSpec spec;
  spec.command = "cat";
  spec.timeout = seconds(20);
  spec.input = input;
  spec.collect_output = false;
  spec.on_output = [&heard](std::string_view chunk) { heard += chunk; };
  std::optional<Result<ProcessOutcome>> outcome;
  Scope scope(this->machine.executor());
  scope.spawn(await_into(this->host().run(spec), &outcome));
  const auto until = [&](auto done) {
    for (int i = 0; i < 2000 && !done(); ++i) this->machine.run_for(milliseconds(5));
    return done();
  };
  ASSERT_TRUE(input->write("hello\n").has_value());
  ASSERT_TRUE(until([&] { return heard == "hello\n"; })) << heard;
  EXPECT_FALSE(outcome.has_value()) << "still running: its input is open";
  ASSERT_TRUE(input->write("again\n").has_value());
  ASSERT_TRUE(until([&] { return heard == "hello\nagain\n"; })) << heard;
  input->close();
  ASSERT_TRUE(until([&] { return outcome.has_value(); }));
  ASSERT_TRUE(outcome->has_value()) << outcome->error().message;
  EXPECT_EQ((*outcome)->exit_code, 0) << "end of file ends cat";
  EXPECT_TRUE(input->ended());
  const auto late = input->write("too late\n");
  ASSERT_FALSE(late.has_value());
  EXPECT_EQ(late.error().code, ErrorCode::failed_precondition);
}

TYPED_TEST_P(HostContract, AKilledProcessTakesNoMoreInput) {
  auto input = std::make_shared<ProcessInput>();
  ProcessSpec spec;
  spec.command = "cat";
  spec.input = input;
  std::optional<Result<ProcessOutcome>> outcome;
  {
    Scope scope(this->machine.executor());
    scope.spawn(await_into(this->host().run(spec), &outcome));
    this->machine.run_for(milliseconds(20));
  }  // the cancel
  EXPECT_FALSE(outcome.has_value());
  EXPECT_TRUE(input->ended());
  EXPECT_FALSE(input->write("x").has_value());
  // Input nobody reads is bounded.
  ProcessInput small(8);
  ASSERT_TRUE(small.write("12345678").has_value());
  const auto full = small.write("9");
  ASSERT_FALSE(full.has_value());
  EXPECT_EQ(full.error().code, ErrorCode::resource_exhausted);
}

TYPED_TEST_P(HostContract, DirectoriesAreCreatedRemovedMovedAndCopied) {
  Host& host = this->host();
  ASSERT_TRUE(this->wait(host.create_directory("made/deep/er")).has_value());
  EXPECT_TRUE(this->wait(host.stat("made/deep/er"))->is_directory);
  EXPECT_TRUE(this->wait(host.create_directory("made/deep")).has_value()) << "exists: fine";
  EXPECT_TRUE(this->wait(host.list_directory("made/deep/er"))->empty());

  this->write("tree/a.txt", "a");
  this->write("tree/sub/b.txt", "bb");
  ASSERT_TRUE(this->wait(host.copy_path("tree", "copied/tree")).has_value());
  EXPECT_EQ(*this->wait(host.read_file("copied/tree/sub/b.txt")), "bb");
  EXPECT_EQ(*this->wait(host.read_file("tree/sub/b.txt")), "bb") << "the source stays";
  ASSERT_TRUE(this->wait(host.copy_path("tree/a.txt", "a-copy.txt")).has_value());
  EXPECT_EQ(*this->wait(host.read_file("a-copy.txt")), "a");

  ASSERT_TRUE(this->wait(host.move_path("tree", "moved/here")).has_value());
  EXPECT_EQ(this->wait(host.stat("tree")).error().code, ErrorCode::not_found);
  EXPECT_EQ(*this->wait(host.read_file("moved/here/a.txt")), "a");
  ASSERT_TRUE(this->wait(host.move_path("a-copy.txt", "renamed.txt")).has_value());
  EXPECT_EQ(*this->wait(host.read_file("renamed.txt")), "a");

  ASSERT_TRUE(this->wait(host.remove_path("renamed.txt", false)).has_value());
  EXPECT_EQ(this->wait(host.stat("renamed.txt")).error().code, ErrorCode::not_found);
  EXPECT_EQ(this->wait(host.remove_path("moved", false)).error().code,
            ErrorCode::failed_precondition)
      << "a directory with something in it goes only when asked recursively";
  EXPECT_TRUE(this->wait(host.read_file("moved/here/sub/b.txt")).has_value());
  ASSERT_TRUE(this->wait(host.remove_path("moved", true)).has_value());
  EXPECT_EQ(this->wait(host.stat("moved")).error().code, ErrorCode::not_found);
  ASSERT_TRUE(this->wait(host.remove_path("made/deep/er", false)).has_value()) << "empty";
}

TYPED_TEST_P(HostContract, RemovesMovesAndCopiesRefuseWhatTheyMust) {
  Host& host = this->host();
  this->write("one", "1");
  this->write("two", "2");
  this->write("dir/inner", "i");
  EXPECT_EQ(this->wait(host.remove_path("missing", true)).error().code, ErrorCode::not_found);
  EXPECT_EQ(this->wait(host.move_path("missing", "x")).error().code, ErrorCode::not_found);
  EXPECT_EQ(this->wait(host.copy_path("missing", "x")).error().code, ErrorCode::not_found);
  EXPECT_EQ(this->wait(host.move_path("one", "two")).error().code, ErrorCode::already_exists);
  EXPECT_EQ(this->wait(host.copy_path("one", "dir")).error().code, ErrorCode::already_exists);
  EXPECT_EQ(*this->wait(host.read_file("two")), "2") << "nothing was replaced";
  EXPECT_EQ(this->wait(host.move_path("dir", "dir/below")).error().code,
            ErrorCode::invalid_argument);
  EXPECT_EQ(this->wait(host.copy_path("dir", "dir/below")).error().code,
            ErrorCode::invalid_argument);
  EXPECT_EQ(this->wait(host.create_directory("one")).error().code, ErrorCode::invalid_argument);
  EXPECT_EQ(this->wait(host.create_directory("one/under")).error().code,
            ErrorCode::invalid_argument);
  EXPECT_EQ(this->wait(host.copy_path("dir", "one/under")).error().code,
            ErrorCode::invalid_argument);
}

TYPED_TEST_P(HostContract, AConfinedHostChangesNothingOutsideItsRootsNorTheRootItself) {
  this->write("outside/secret", "s3cret");
  std::unique_ptr<Host> confined = this->machine.confined_host();
  ASSERT_TRUE(this->wait(confined->write_file("mine.txt", "m")).has_value());
  for (const std::string& outside : {std::string("../outside/secret"), this->path("outside/secret"),
                                     std::string("../outside")}) {
    EXPECT_EQ(this->wait(confined->remove_path(outside, true)).error().code,
              ErrorCode::permission_denied)
        << outside;
    EXPECT_EQ(this->wait(confined->move_path(outside, "taken")).error().code,
              ErrorCode::permission_denied)
        << outside;
    EXPECT_EQ(this->wait(confined->copy_path(outside, "taken")).error().code,
              ErrorCode::permission_denied)
        << outside;
  }
  EXPECT_EQ(this->wait(confined->copy_path("mine.txt", "../outside/planted")).error().code,
            ErrorCode::permission_denied);
  EXPECT_EQ(this->wait(confined->move_path("mine.txt", "../outside/planted")).error().code,
            ErrorCode::permission_denied);
  EXPECT_EQ(this->wait(confined->create_directory("../outside/made")).error().code,
            ErrorCode::permission_denied);
  EXPECT_EQ(this->wait(confined->remove_path(".", true)).error().code, ErrorCode::permission_denied)
      << "the workspace root itself is never removed";
  EXPECT_EQ(this->wait(confined->move_path(".", "elsewhere")).error().code,
            ErrorCode::permission_denied);
  EXPECT_EQ(*this->wait(this->host().read_file("outside/secret")), "s3cret");
  EXPECT_EQ(this->wait(this->host().stat("outside/planted")).error().code, ErrorCode::not_found);
  EXPECT_EQ(*this->wait(confined->read_file("mine.txt")), "m");
}

// The daemon's own data inside its workspace (`cd PROJECT && reliant monolith --data-dir
// ./data`): no file operation reads, lists, changes or even shows it (issue 38, finding 12).
TYPED_TEST_P(HostContract, AnExcludedDirectoryIsNeverReached) {
  std::unique_ptr<Host> host = this->machine.private_host();
  ASSERT_TRUE(this->wait(host->write_file("notes.txt", "mine")).has_value());
  for (const std::string& path :
       {std::string("data/auth/token"), std::string("./data/auth/token"),
        std::string("sub/../data/auth/token"), this->path("inside/data/auth/token")}) {
    auto read = this->wait(host->read_file(path));
    ASSERT_FALSE(read.has_value()) << path;
    EXPECT_EQ(read.error().code, ErrorCode::permission_denied) << path;
    EXPECT_EQ(this->wait(host->stat(path)).error().code, ErrorCode::permission_denied) << path;
    EXPECT_EQ(this->wait(host->write_file(path, "overwritten")).error().code,
              ErrorCode::permission_denied)
        << path;
  }
  auto matcher = std::make_shared<AnyLine>();
  EXPECT_EQ(
      this->wait(host->search_file("data/auth/token", matcher, FileSearchLimits{})).error().code,
      ErrorCode::permission_denied);
  EXPECT_EQ(this->wait(host->list_directory("data")).error().code, ErrorCode::permission_denied);
  EXPECT_EQ(this->wait(host->stat("data")).error().code, ErrorCode::permission_denied);
  auto listing = this->wait(host->list_directory("."));
  ASSERT_TRUE(listing.has_value());
  ASSERT_EQ(listing->size(), 1u) << "the data dir is not even shown";
  EXPECT_EQ(file_name((*listing)[0].path), "notes.txt");
  EXPECT_EQ(this->wait(host->create_directory("data/more")).error().code,
            ErrorCode::permission_denied);
  EXPECT_EQ(this->wait(host->remove_path("data", true)).error().code, ErrorCode::permission_denied);
  EXPECT_EQ(this->wait(host->move_path("data", "moved")).error().code,
            ErrorCode::permission_denied);
  EXPECT_EQ(this->wait(host->copy_path("data", "copied")).error().code,
            ErrorCode::permission_denied);
  EXPECT_EQ(this->wait(host->copy_path("data/auth/token", "copied")).error().code,
            ErrorCode::permission_denied);
  EXPECT_EQ(this->wait(host->move_path("notes.txt", "data/notes.txt")).error().code,
            ErrorCode::permission_denied);
  EXPECT_EQ(this->wait(host->stat("copied")).error().code, ErrorCode::not_found);
  EXPECT_EQ(*this->wait(host->read_file("notes.txt")), "mine");
}

TYPED_TEST_P(HostContract, SearchesAFileForMatchingLines) {
  this->write("lines.txt", "one\ntwo\r\nthree\n");
  auto found = this->wait(
      this->host().search_file("lines.txt", std::make_shared<AnyLine>('t'), FileSearchLimits{}));
  ASSERT_TRUE(found.has_value());
  ASSERT_EQ(found->lines.size(), 2u);
  EXPECT_EQ(found->lines[0].number, 2u);
  EXPECT_EQ(found->lines[0].text, "two");
  EXPECT_EQ(found->lines[1].text, "three");
  EXPECT_EQ(found->bytes, 15u);
  FileSearchLimits small;
  small.file_bytes_max = 4;
  EXPECT_EQ(this->wait(this->host().search_file("lines.txt", std::make_shared<AnyLine>(), small))
                .error()
                .code,
            ErrorCode::resource_exhausted);
  EXPECT_EQ(this->wait(this->host().search_file("missing", std::make_shared<AnyLine>(),
                                                FileSearchLimits{}))
                .error()
                .code,
            ErrorCode::not_found);
}

REGISTER_TYPED_TEST_SUITE_P(
    HostContract, ACommandGivesItsOutputAndExitCode, ACommandRunsInTheWorkingDirectory,
    ATimeoutKillsTheCommand, OutputBeyondTheLimitIsCountedNotKept,
    StderrJoinsTheOutputUnlessKeptApart, TheLimitAppliesToEachStreamKeptApart,
    CancellingEndsTheCommandAndItsOutput, FilesRoundTripAndCreateTheirDirectories,
    ListingsAreSortedAndSayWhatIsADirectory, FileErrorsAreTheSameEverywhere,
    ReadsAndListingsAreBounded, AConfinedHostNeverReachesOutsideItsRoots,
    AProcessReadsWhatItsCallerWritesWhileItRuns, AKilledProcessTakesNoMoreInput,
    DirectoriesAreCreatedRemovedMovedAndCopied, RemovesMovesAndCopiesRefuseWhatTheyMust,
    AConfinedHostChangesNothingOutsideItsRootsNorTheRootItself, AnExcludedDirectoryIsNeverReached,
    SearchesAFileForMatchingLines);

}  // namespace reliant::contract
