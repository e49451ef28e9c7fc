// Copyright 2026 The libprusaconnect Authors.
//
// HttpClient: the library's one seam for HTTP outside the network engine —
// send a request, or stream a download. Cameras (snapshot uploads, HTTP
// camera sources) and transfers (downloads) receive a factory of clients
// (and a clock), so their tests substitute a fake; the libcurl client
// (curl_http_client.cc) is what they get otherwise.
//
// Thread safety: one client per thread (a camera's, a transfer's); distinct
// clients are independent.
#ifndef PRUSACONNECT_TRANSPORT_HTTP_CLIENT_H_
#define PRUSACONNECT_TRANSPORT_HTTP_CLIENT_H_

#include <functional>
#include <memory>
#include <string>

#include "protocol/http_types.h"
#include "transport/fetch.h"

namespace prusaconnect::internal {

class HttpClient {
 public:
  virtual ~HttpClient() = default;
  // Sends one request and returns its outcome (status or transport error),
  // the whole body in memory (at most request.max_response_body).
  virtual HttpResponse Send(const HttpRequest& request) = 0;
  // Streams one response: its head and body pieces go to `callbacks` as
  // they arrive (transport/fetch.h says what each means).
  virtual FetchResult Stream(const FetchRequest& request, FetchCallbacks& callbacks) = 0;
};

using HttpClientFactory = std::function<std::unique_ptr<HttpClient>()>;

// libcurl, blocking; the connection is kept alive between Send() calls.
// `userpwd` ("user:password") enables basic authentication.
std::unique_ptr<HttpClient> MakeCurlHttpClient(std::string userpwd = "");

}  // namespace prusaconnect::internal

#endif  // PRUSACONNECT_TRANSPORT_HTTP_CLIENT_H_
