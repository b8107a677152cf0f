// OutboundHttpClient: a request as an HttpPost of its method, the head and body passed through.
#include "adapters/llm/outbound_http.h"

#include <memory>
#include <utility>

namespace reliant::llm {

OutboundHttpClient::OutboundHttpClient(AsioExecutor& executor, std::string ca_file)
    : http_(executor, std::move(ca_file)) {}

Task<Result<HttpClientHead>> OutboundHttpClient::send(
    HttpClientRequest request, std::function<void(const HttpClientHead&)> on_head,
    std::function<bool(std::string_view)> on_body) {
  HttpPost post;
  post.method = std::move(request.method);
  post.url = std::move(request.url);
  post.headers = std::move(request.headers);
  post.body = std::move(request.body);
  post.timeouts.total = request.total_timeout;
  post.timeouts.idle = request.idle_timeout;
  post.sink_every_status = true;
  auto head = std::make_shared<HttpClientHead>();
  post.on_head = [head, on_head = std::move(on_head)](
                     int status, const std::map<std::string, std::string>& headers) {
    head->status = status;
    head->headers = headers;
    if (on_head) on_head(*head);
  };
  Task<Result<HttpReply>> sending = http_.post(std::move(post), std::move(on_body));
  Result<HttpReply> reply = co_await sending;
  if (!reply) co_return fail(reply.error());
  co_return *head;
}

}  // namespace reliant::llm
