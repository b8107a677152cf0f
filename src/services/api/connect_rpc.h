// ConnectRpc: the Connect protocol (connectrpc.com/docs/protocol) on the HTTP port, so a
// browser calls the gRPC services (spec S3.2) over
// plain HTTP/1.1 without a proxy. Unary calls are POST /<package.Service>/<Method> with a JSON
// (application/json) or binary (application/proto) body, answered 200 with the response or an
// HTTP error status with {"code", "message"}; server-streaming calls send and receive enveloped
// messages (application/connect+json|proto) ended by an end-of-stream message that carries the
// error, if any. It only translates: the RpcHandler (GrpcApi) authenticates and answers, as it
// does for gRPC, from the headers as metadata.
#pragma once

#include "runtime/http.h"
#include "runtime/rpc.h"

namespace reliant::api {

class ConnectRpc {
 public:
  explicit ConnectRpc(RpcHandler& rpc) : rpc_(rpc) {}

  // Whether `request` is a Connect call ("/reliant.…/Method").
  static bool handles(const HttpRequest& request);
  Task<HttpResponse> handle(HttpRequest request);

 private:
  RpcHandler& rpc_;
};

}  // namespace reliant::api
