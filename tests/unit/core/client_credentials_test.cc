// The client commands' choice of server and token: flags, environment, saved login, data dir.
#include <gtest/gtest.h>

#include "core/client_credentials.h"

namespace reliant {
namespace {

constexpr const char* kLoginServer = "https://reliant.example.com";

ClientCredentialSources logged_in() {
  ClientCredentialSources s;
  s.login = SavedLogin{kLoginServer, "rlnt_pat_login"};
  return s;
}

TEST(ClientCredentials, NothingGivenIsTheLocalMonolithsDataDirectory) {
  const ClientCredentials chosen = choose_client_credentials({});
  EXPECT_EQ(chosen.server, kDefaultClientServer);
  EXPECT_EQ(chosen.server_source, ServerSource::fallback);
  EXPECT_EQ(chosen.token_source, TokenSource::data_dir);
  EXPECT_TRUE(chosen.token.empty());
  EXPECT_TRUE(chosen.warnings.empty());
}

TEST(ClientCredentials, TheSavedLoginNamesTheServerAndTheToken) {
  const ClientCredentials chosen = choose_client_credentials(logged_in());
  EXPECT_EQ(chosen.server, kLoginServer);
  EXPECT_EQ(chosen.server_source, ServerSource::saved_login);
  EXPECT_EQ(chosen.token, "rlnt_pat_login");
  EXPECT_EQ(chosen.token_source, TokenSource::saved_login);
}

TEST(ClientCredentials, TheFlagBeatsTheEnvironmentWhichBeatsTheLogin) {
  ClientCredentialSources s = logged_in();
  s.token_env = "rlnt_pat_env";
  EXPECT_EQ(choose_client_credentials(s).token, "rlnt_pat_env");
  EXPECT_EQ(choose_client_credentials(s).token_source, TokenSource::environment);
  EXPECT_EQ(choose_client_credentials(s).server, kLoginServer);  // the login still names it
  s.token_flag = "rlnt_pat_flag";
  EXPECT_EQ(choose_client_credentials(s).token, "rlnt_pat_flag");
  EXPECT_EQ(choose_client_credentials(s).token_source, TokenSource::flag);

  ClientCredentialSources servers = logged_in();
  servers.legacy_server_env = "https://legacy:1";
  EXPECT_EQ(choose_client_credentials(servers).server, "https://legacy:1");
  servers.server_env = "https://env:2";
  EXPECT_EQ(choose_client_credentials(servers).server, "https://env:2");
  EXPECT_EQ(choose_client_credentials(servers).server_source, ServerSource::environment);
  servers.server_flag = "https://flag:3";
  EXPECT_EQ(choose_client_credentials(servers).server, "https://flag:3");
  EXPECT_EQ(choose_client_credentials(servers).server_source, ServerSource::flag);
}

TEST(ClientCredentials, TheLoginsTokenGoesOnlyToItsOwnServer) {
  ClientCredentialSources s = logged_in();
  s.server_flag = "https://other.example.com";
  EXPECT_EQ(choose_client_credentials(s).token_source, TokenSource::data_dir);
  s.server_flag = std::string(kLoginServer) + "/";  // the same server
  EXPECT_EQ(choose_client_credentials(s).token_source, TokenSource::saved_login);
  s.server_flag.clear();
  s.server_env = kLoginServer;
  EXPECT_EQ(choose_client_credentials(s).token_source, TokenSource::saved_login);
}

TEST(ClientCredentials, AGivenDataDirectoryKeepsTheLocalServer) {
  ClientCredentialSources s = logged_in();
  s.data_dir_given = true;
  const ClientCredentials chosen = choose_client_credentials(s);
  EXPECT_EQ(chosen.server, kDefaultClientServer);
  EXPECT_EQ(chosen.token_source, TokenSource::data_dir);
  // A login for that very server is still preferred to the data directory's token.
  s.login->server = std::string(kDefaultClientServer);
  EXPECT_EQ(choose_client_credentials(s).token_source, TokenSource::saved_login);
}

TEST(ClientCredentials, AnIncompleteLoginIsNoLogin) {
  ClientCredentialSources s;
  s.login = SavedLogin{kLoginServer, ""};
  EXPECT_EQ(choose_client_credentials(s).server, kDefaultClientServer);
  s.login = SavedLogin{"", "rlnt_pat_login"};
  EXPECT_EQ(choose_client_credentials(s).token_source, TokenSource::data_dir);
}

TEST(ClientCredentials, TheOldVariableWarnsWhetherUsedOrIgnored) {
  ClientCredentialSources s;
  s.legacy_server_env = "https://legacy:1";
  ClientCredentials chosen = choose_client_credentials(s);
  EXPECT_EQ(chosen.server_source, ServerSource::legacy_environment);
  ASSERT_EQ(chosen.warnings.size(), 1u);
  EXPECT_NE(chosen.warnings[0].find("RELIANT_SERVER_URL"), std::string::npos);
  s.server_env = "https://env:2";
  chosen = choose_client_credentials(s);
  EXPECT_EQ(chosen.server, "https://env:2");
  ASSERT_EQ(chosen.warnings.size(), 1u);
  EXPECT_NE(chosen.warnings[0].find("ignored"), std::string::npos);
}

TEST(ClientCredentials, SameServerIgnoresTrailingSlashesOnly) {
  EXPECT_TRUE(same_server("https://h:1", "https://h:1//"));
  EXPECT_FALSE(same_server("https://h:1", "http://h:1"));
  EXPECT_FALSE(same_server("https://h:1", "https://h:2"));
  EXPECT_EQ(token_source_name(TokenSource::saved_login), "the saved login");
}

}  // namespace
}  // namespace reliant
