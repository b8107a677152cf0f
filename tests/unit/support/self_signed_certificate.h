// A self-signed certificate for localhost and 127.0.0.1 (P-256, two days), made with the openssl
// command into a directory of its own that goes with the object: for the tests of every TLS
// listener (HTTP, gRPC).
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "unit/support/temp_dir.h"

namespace reliant::testing {

struct SelfSignedCertificate {
  TempDir dir{"reliant-tls"};
  std::filesystem::path cert = dir.path / "cert.pem";
  std::filesystem::path key = dir.path / "key.pem";

  SelfSignedCertificate() {
    const std::string command =
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2"
        " -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout " +
        key.string() + " -out " + cert.string() + " >/dev/null 2>&1";
    EXPECT_EQ(std::system(command.c_str()), 0) << command;
  }
};

}  // namespace reliant::testing
