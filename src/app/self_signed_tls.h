// A self-signed TLS certificate for servers started without one (seed 002: generated into the
// data dir). Reused when it is already there, so clients can pin it across restarts.
#pragma once

#include <string>

#include "base/result.h"

namespace reliant {

struct TlsFiles {
  std::string cert_file;
  std::string key_file;
};

// DIR/tls/cert.pem and DIR/tls/key.pem (0600), valid for localhost and 127.0.0.1 for ten years.
Result<TlsFiles> ensure_self_signed_tls(const std::string& data_dir);

}  // namespace reliant
