// Copyright 2026 The libprusaconnect Authors.
//
// The pure helpers downloads rely on: origins (whether a URL may get the
// printer's token), percent-encoding of START_CONNECT_DOWNLOAD's URL parts,
// log-safe URLs, and TransferInfo's wire form.
#include "transport/fetch.h"
#include "util/url.h"

#include "gtest/gtest.h"
#include "prusaconnect/transfer.h"

namespace prusaconnect {
namespace {

using internal::PercentEncode;
using internal::UrlForLog;
using internal::UrlOrigin;

TEST(UrlOrigin, SchemeHostAndPortWithDefaults) {
  EXPECT_EQ(UrlOrigin("HTTPS://Connect.Prusa3D.com/p/x"), "https://connect.prusa3d.com:443");
  EXPECT_EQ(UrlOrigin("http://127.0.0.1:8000/a?b#c"), "http://127.0.0.1:8000");
  EXPECT_EQ(UrlOrigin("http://example.com"), "http://example.com:80");
  EXPECT_EQ(UrlOrigin("http://[::1]:8080/"), "http://[::1]:8080");
}

TEST(UrlOrigin, LookalikesAreOtherOrigins) {
  // The SDK compared text prefixes (Q21): these all "started with" the server.
  std::optional<std::string> server = UrlOrigin("http://server:8000");
  EXPECT_NE(UrlOrigin("http://server:80001/x"), server);
  EXPECT_NE(UrlOrigin("http://server:8000.evil/x"), server);
  EXPECT_NE(UrlOrigin("http://server:8000@evil.example/x"), server);
  EXPECT_NE(UrlOrigin("https://server:8000/x"), server);
  EXPECT_EQ(UrlOrigin("http://SERVER:8000/other/path"), server);
}

TEST(UrlOrigin, OnlyHttpAndHttps) {
  EXPECT_EQ(UrlOrigin("ftp://example.com/x"), std::nullopt);
  EXPECT_EQ(UrlOrigin("file:///etc/passwd"), std::nullopt);
  EXPECT_EQ(UrlOrigin("not a url"), std::nullopt);
  EXPECT_EQ(UrlOrigin(""), std::nullopt);
}

TEST(PercentEncode, KeepsUnreservedOnly) {
  EXPECT_EQ(PercentEncode("abcXYZ019-._~"), "abcXYZ019-._~");
  EXPECT_EQ(PercentEncode("a/../b c?d#e"), "a%2F..%2Fb%20c%3Fd%23e");
  EXPECT_EQ(PercentEncode("\xc5\xa1"), "%C5%A1");
}

TEST(UrlForLog, DropsCredentialsAndQuery) {
  EXPECT_EQ(UrlForLog("https://user:secret@host/file.gcode?token=abc#x"),
            "https://host/file.gcode");
}

TEST(TransferInfo, WireFormAsTheSdk) {
  TransferInfo idle;
  EXPECT_EQ(idle.ToJson().Dump(), R"({"type":"NO_TRANSFER"})");
  TransferInfo t;
  t.in_progress = true;
  t.transfer_id = 1637202714;
  t.start_cmd_id = 70;
  t.type = TransferType::FROM_WEB;
  t.path = "/usb/a.gcode";
  t.url = "http://h/a.gcode";
  t.to_print = true;
  EXPECT_EQ(
      t.ToJson().Dump(),
      R"({"transfer_id":1637202714,"start_cmd_id":70,"type":"FROM_WEB","path":"/usb/a.gcode",)"
      R"("url":"http://h/a.gcode","progress":0.0,"transferred":0,"time_transferring":0,)"
      R"("to_print":true})");
  t.size = 400000;
  t.transferred = 147000;
  t.time_remaining = 2;
  t.time_transferring = 1;
  EXPECT_DOUBLE_EQ(t.progress(), 36.75);
  EXPECT_EQ(
      t.ToJson().Dump(),
      R"({"transfer_id":1637202714,"start_cmd_id":70,"type":"FROM_WEB","path":"/usb/a.gcode",)"
      R"("url":"http://h/a.gcode","size":400000,"progress":36.75,"transferred":147000,)"
      R"("time_remaining":2,"time_transferring":1,"to_print":true})");
  t.transferred = 1;
  t.size = 3;
  EXPECT_EQ(t.ToJson().find("progress")->as_double(), 33.33);  // rounded to 2 places
}

}  // namespace
}  // namespace prusaconnect
