// The messages HttpServer reads and writes, and the rules it holds them to (http_messages.h).
#include "adapters/http/http_messages.h"

#include <nlohmann/json.hpp>

#include "base/url_encoding.h"

namespace reliant::http_messages {

std::string lower_case(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string upper_case(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

HttpRequest to_request(http::request<http::string_body>& message, const std::string& remote_address,
                       const std::string& client_key) {
  HttpRequest request;
  request.method = upper_case(view(message.method_string()));
  const std::string_view target = view(message.target());
  const std::size_t question = target.find('?');
  request.path = percent_decode(target.substr(0, question), false);
  if (question != std::string_view::npos)
    request.query = parse_form_urlencoded(target.substr(question + 1));
  for (const auto& field : message) {
    std::string name = lower_case(view(field.name_string()));
    const std::string_view value = view(field.value());
    auto [it, inserted] = request.headers.emplace(std::move(name), std::string(value));
    if (!inserted) {  // a repeated header is one comma-separated list (RFC 9110 §5.3)
      it->second += ", ";
      it->second += value;
    }
  }
  request.body = std::move(message.body());
  request.remote_address = remote_address;
  request.client_key = client_key;
  return request;
}

std::string error_json(const std::string& message) {
  return nlohmann::json{{"error", message}}.dump(-1, ' ', false,
                                                 nlohmann::json::error_handler_t::replace);
}

HttpResponse error_response(int status, const std::string& message) {
  HttpResponse response;
  response.status = status;
  response.body = error_json(message);
  return response;
}

bool header_allowed(const std::string& name, const std::string& value) {
  if (name.empty()) return false;
  for (const std::string* text : {&name, &value}) {
    for (char c : *text) {
      if (c == '\r' || c == '\n' || c == '\0') return false;
    }
  }
  const std::string lower = lower_case(name);
  return lower != "content-length" && lower != "transfer-encoding" && lower != "connection";
}

unsigned final_status(int status) {
  return status >= 200 && status <= 999 ? static_cast<unsigned>(status) : 500u;
}

std::shared_ptr<http::response<http::string_body>> to_message(HttpResponse response,
                                                              unsigned version, bool keep_alive,
                                                              bool head_request,
                                                              const HeaderList& cors_headers) {
  auto message = std::make_shared<http::response<http::string_body>>();
  const unsigned status = final_status(response.status);
  message->version(version);
  message->result(status);
  message->keep_alive(keep_alive);
  add_headers(*message, response.headers, cors_headers);
  // 204 and 304 carry neither a body nor its length (RFC 9110 §8.6).
  if (without_body(status)) return message;
  if (!response.content_type.empty() && header_allowed("content-type", response.content_type)) {
    message->set(http::field::content_type, response.content_type);
  }
  message->content_length(response.body.size());
  if (!head_request) message->body() = std::move(response.body);
  return message;
}

bool is_parse_error(beast::error_code ec) {
  static const auto& category = make_error_code(http::error::end_of_stream).category();
  // end_of_stream and partial_message: the client closed the connection; nobody to answer.
  return ec.category() == category && ec != http::error::end_of_stream &&
         ec != http::error::partial_message;
}

std::string framing_problem(const http::request_parser<http::string_body>& parser) {
  const http::request<http::string_body>& message = parser.get();
  const auto codings = message.equal_range(http::field::transfer_encoding);
  if (codings.first == codings.second) return {};
  if (message.version() < 11) return "Transfer-Encoding in an HTTP/1.0 request";
  if (message.count(http::field::content_length) > 0) {
    return "both Transfer-Encoding and Content-Length";
  }
  std::size_t chunked = 0;
  std::size_t others = 0;
  for (auto field = codings.first; field != codings.second; ++field) {
    const std::string_view list = view(field->value());
    std::size_t start = 0;
    while (start <= list.size()) {
      std::size_t comma = list.find(',', start);
      if (comma == std::string_view::npos) comma = list.size();
      std::string_view coding = list.substr(start, comma - start);
      while (!coding.empty() && (coding.front() == ' ' || coding.front() == '\t')) {
        coding.remove_prefix(1);
      }
      while (!coding.empty() && (coding.back() == ' ' || coding.back() == '\t')) {
        coding.remove_suffix(1);
      }
      if (lower_case(coding) == "chunked") {
        ++chunked;
      } else if (!coding.empty()) {  // empty list elements are allowed (RFC 9110 §5.6.1)
        ++others;
      }
      start = comma + 1;
    }
  }
  // The parser's own reading must agree, or the body would be framed other than we checked.
  if (chunked != 1 || others != 0 || !parser.chunked()) {
    return "Transfer-Encoding must be exactly \"chunked\"";
  }
  return {};
}

std::string host_problem(const http::request<http::string_body>& message) {
  const std::size_t hosts = message.count(http::field::host);
  if (hosts > 1) return "more than one Host header";
  if (hosts == 0 && message.version() >= 11) return "no Host header (RFC 9112 §3.2 requires one)";
  return {};
}

}  // namespace reliant::http_messages
