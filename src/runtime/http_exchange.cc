// The body gathered piece by piece, up to its bound.
#include "runtime/http_exchange.h"

#include <memory>

namespace reliant {

Task<Result<HttpClientAnswer>> send_and_read(HttpClient& http, HttpClientRequest request,
                                             std::size_t body_bytes_max) {
  auto answer = std::make_shared<HttpClientAnswer>();
  auto too_long = std::make_shared<bool>(false);
  Task<Result<HttpClientHead>> sending = http.send(
      std::move(request), [](const HttpClientHead&) {},
      [answer, too_long, body_bytes_max](std::string_view piece) {
        if (answer->body.size() + piece.size() > body_bytes_max) {
          *too_long = true;
          return false;
        }
        answer->body.append(piece);
        return true;
      });
  Result<HttpClientHead> head = co_await sending;
  if (!head) co_return fail(head.error());
  if (*too_long) {
    co_return fail(ErrorCode::resource_exhausted,
                   "the answer is longer than " + std::to_string(body_bytes_max) + " bytes");
  }
  answer->status = head->status;
  co_return std::move(*answer);
}

}  // namespace reliant
