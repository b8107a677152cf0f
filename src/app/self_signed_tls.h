// A self-signed TLS certificate for servers started without one (spec S2.4: generated into the
// data dir). Reused when it is already there, so clients can pin it across restarts.
#pragma once

#include <optional>
#include <string>

#include "base/result.h"

namespace reliant {

struct TlsFiles {
  std::string cert_file;
  std::string key_file;
};

// DIR/tls/cert.pem and DIR/tls/key.pem (0600), valid for localhost and 127.0.0.1 for ten years.
Result<TlsFiles> ensure_self_signed_tls(const std::string& data_dir);

// What a server serves TLS with (--tls-cert, --tls-key, --disable-tls: spec S1.5): the given
// pair, or without one a self-signed certificate in `data_dir` (logged, with what clients need);
// nullopt with `disable_tls`. invalid_argument when only one of the pair is given.
Result<std::optional<TlsFiles>> server_tls_files(bool disable_tls, const std::string& cert_file,
                                                 const std::string& key_file,
                                                 const std::string& data_dir);

}  // namespace reliant
