// Copyright 2026 The libprusaconnect Authors.
//
// The cameras' own HTTP client: one libcurl easy handle per camera (spec
// Q48: the snapshot traffic never shares the printer's connection nor its
// network thread), used synchronously from the camera's thread. The
// connection is kept alive between requests.
//
// Besides src/transport/engine.cc, this is the only file that includes
// <curl/curl.h>.
//
// Thread safety: one client per thread; distinct clients are independent.
#ifndef PRUSACONNECT_CAMERA_HTTP_CLIENT_H_
#define PRUSACONNECT_CAMERA_HTTP_CLIENT_H_

#include <functional>
#include <memory>
#include <string>

#include "protocol/http_types.h"

namespace prusaconnect::internal {

// Sends one request and returns its outcome (status or transport error).
// Abstract so that tests substitute canned answers.
class CameraHttp {
 public:
  virtual ~CameraHttp() = default;
  virtual HttpResponse Send(const HttpRequest& request) = 0;
};

using CameraHttpFactory = std::function<std::unique_ptr<CameraHttp>()>;

// libcurl, blocking. `userpwd` ("user:password") enables basic auth.
std::unique_ptr<CameraHttp> MakeCurlCameraHttp(std::string userpwd = "");

}  // namespace prusaconnect::internal

#endif  // PRUSACONNECT_CAMERA_HTTP_CLIENT_H_
