// send_and_read(): one HTTP exchange through the HttpClient port whose whole answer the caller
// wants — a status and a body of bounded size — for clients that read JSON answers (the
// Kubernetes provisioner, a daemon's command feed), not streams.
#pragma once

#include <cstddef>
#include <string>

#include "runtime/http_client.h"

namespace reliant {

struct HttpClientAnswer {
  int status = 0;
  std::string body;
};

// Fails as HttpClient::send does, or with resource_exhausted when the body is longer than
// `body_bytes_max` (reading stops there).
Task<Result<HttpClientAnswer>> send_and_read(HttpClient& http, HttpClientRequest request,
                                             std::size_t body_bytes_max);

}  // namespace reliant
