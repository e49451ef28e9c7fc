// Tests for the generic HTTP/1.1 server: framing, keep-alive, pipelining,
// deferred answers, fault hooks, streaming and listener control.

#include "emulator/http_server.h"

#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <fstream>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "emulator/http_parser.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "test_client.h"

namespace prusaconnect::emulator {
namespace {

using testing::ClientResponse;
using testing::CurlClient;
using ::testing::HasSubstr;
using testing::RawConnection;

// Echoes method, path, query, body size and the body back.
void Echo(const HttpRequest& r, HttpResponder responder) {
  HttpResponse resp = HttpResponse::Text(
      200, absl::StrCat(r.method, " ", r.path, "?", r.query, " conn=", r.connection_id,
                        " idx=", r.request_index, " len=", r.body.size(), " body=", r.body));
  responder.Respond(std::move(resp));
}

// Polls `pred` (which reads server statistics, not signalled state) with a
// generous upper bound.
template <typename Pred>
bool Eventually(Pred pred, absl::Duration timeout = absl::Seconds(10)) {
  absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (pred()) return true;
    absl::SleepFor(absl::Milliseconds(2));
  }
  return pred();
}

class HttpServerTest : public ::testing::Test {
 protected:
  void StartServer(HttpHandler handler, HttpServerOptions options = {}) {
    server_ = std::make_unique<HttpServer>(std::move(options), std::move(handler));
    ASSERT_TRUE(server_->Start().ok());
    ASSERT_NE(server_->port(), 0);
  }
  std::string Url(std::string_view path) {
    return absl::StrCat("http://127.0.0.1:", server_->port(), std::string(path));
  }
  std::unique_ptr<RawConnection> Connect() {
    auto c = RawConnection::Connect(server_->port());
    EXPECT_NE(c, nullptr);
    return c;
  }

  std::unique_ptr<HttpServer> server_;
};

TEST_F(HttpServerTest, ServesARequestOnAnEphemeralPort) {
  StartServer(Echo);
  CurlClient client;
  testing::CurlResult r = client.Request("GET", Url("/hello?x=1"));
  ASSERT_EQ(r.code, CURLE_OK);
  EXPECT_EQ(r.response.status, 200);
  EXPECT_THAT(r.response.body, HasSubstr("GET /hello?x=1"));
  EXPECT_EQ(r.response.Header("Content-Type"), "text/plain; charset=utf-8");
}

TEST_F(HttpServerTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  StartServer(Echo);
  auto c = Connect();
  std::string conn_id;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(c->Send("GET /k HTTP/1.1\r\nHost: x\r\n\r\n"));
    std::optional<ClientResponse> r = c->ReadResponse();
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->status, 200);
    EXPECT_THAT(r->body, HasSubstr(absl::StrCat("idx=", i)));
    EXPECT_FALSE(r->Header("Connection").has_value());
  }
  EXPECT_EQ(server_->stats().connections_accepted, 1u);
  EXPECT_EQ(server_->stats().requests, 3u);
}

TEST_F(HttpServerTest, CurlReusesTheConnection) {
  StartServer(Echo);
  CurlClient client;
  EXPECT_EQ(client.Request("GET", Url("/a")).new_connections, 1);
  EXPECT_EQ(client.Request("POST", Url("/b"), {}, std::string("xyz")).new_connections, 0);
  EXPECT_EQ(client.Request("GET", Url("/c")).new_connections, 0);
}

TEST_F(HttpServerTest, PipelinedRequestsAreAnsweredInOrderEvenWhenTheFirstIsSlow) {
  // The first request is answered (from the test thread) only after the
  // others have arrived; answers must still come back in request order.
  std::mutex mu;
  std::vector<HttpResponder> slow;
  StartServer([&](const HttpRequest& r, HttpResponder responder) {
    if (r.path == "/slow") {
      std::lock_guard<std::mutex> lock(mu);
      slow.push_back(std::move(responder));
      return;
    }
    responder.Respond(HttpResponse::Text(200, r.path.substr(1)));
  });
  auto c = Connect();
  ASSERT_TRUE(
      c->Send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n"
              "POST /two HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
              "GET /three HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(Eventually([&] {
    std::lock_guard<std::mutex> lock(mu);
    return !slow.empty();
  }));
  // Nothing may be answered before the first response.
  EXPECT_EQ(c->WaitClosed(absl::Milliseconds(50)), RawConnection::Outcome::kTimeout);
  EXPECT_EQ(server_->stats().requests, 1u);
  {
    std::lock_guard<std::mutex> lock(mu);
    slow[0].Respond(HttpResponse::Text(200, "slow"));
  }
  for (const char* expected : {"slow", "two", "three"}) {
    std::optional<ClientResponse> r = c->ReadResponse();
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->body, expected);
  }
}

TEST_F(HttpServerTest, DecodesAChunkedRequestBodySentInPieces) {
  StartServer(Echo);
  auto c = Connect();
  ASSERT_TRUE(
      c->Send("POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel"));
  ASSERT_TRUE(c->Send("lo\r\n7;ext=1\r\n, world\r\n0\r\nTrailer: x\r\n\r\n"));
  std::optional<ClientResponse> r = c->ReadResponse();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200);
  EXPECT_THAT(r->body, HasSubstr("len=12 body=hello, world"));
  // The connection stays usable.
  ASSERT_TRUE(c->Send("GET /next HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(c->ReadResponse().has_value());
}

TEST_F(HttpServerTest, ReadsAContentLengthBodySplitAcrossWrites) {
  StartServer(Echo);
  auto c = Connect();
  ASSERT_TRUE(c->Send("POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n01234"));
  EXPECT_EQ(c->WaitClosed(absl::Milliseconds(20)), RawConnection::Outcome::kTimeout);
  ASSERT_TRUE(c->Send("56789"));
  std::optional<ClientResponse> r = c->ReadResponse();
  ASSERT_TRUE(r.has_value());
  EXPECT_THAT(r->body, HasSubstr("len=10 body=0123456789"));
}

TEST_F(HttpServerTest, AnswersExpectContinueBeforeTheBody) {
  StartServer(Echo);
  auto c = Connect();
  ASSERT_TRUE(
      c->Send("PUT /e HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n"));
  std::optional<ClientResponse> cont = c->ReadResponse();
  ASSERT_TRUE(cont.has_value());
  EXPECT_EQ(cont->status, 100);
  ASSERT_TRUE(c->Send("data"));
  std::optional<ClientResponse> r = c->ReadResponse();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200);
  EXPECT_THAT(r->body, HasSubstr("body=data"));
}

TEST_F(HttpServerTest, RejectsOversizedHeadersWith431AndCloses) {
  StartServer(Echo);
  auto c = Connect();
  std::string big =
      absl::StrCat("GET / HTTP/1.1\r\nX-Big: ", std::string(70 * 1024, 'a'), "\r\n\r\n");
  ASSERT_TRUE(c->Send(big));
  std::optional<ClientResponse> r = c->ReadResponse();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 431);
  EXPECT_EQ(r->Header("Connection"), "close");
  EXPECT_EQ(c->WaitClosed(absl::Seconds(10)), RawConnection::Outcome::kEof);
}

TEST_F(HttpServerTest, RejectsOversizedBodiesWith413) {
  HttpServerOptions options;
  options.max_body_bytes = 1000;
  StartServer(Echo, options);
  {
    auto c = Connect();
    ASSERT_TRUE(c->Send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1001\r\n\r\n"));
    std::optional<ClientResponse> r = c->ReadResponse();
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->status, 413);
  }
  {
    auto c = Connect();
    ASSERT_TRUE(
        c->Send(absl::StrCat("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",
                             "3e8\r\n", std::string(1000, 'a'), "\r\n1\r\nb\r\n0\r\n\r\n")));
    std::optional<ClientResponse> r = c->ReadResponse();
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->status, 413);
  }
  {
    auto c = Connect();  // Exactly at the limit is fine.
    ASSERT_TRUE(c->Send(absl::StrCat("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n",
                                     std::string(1000, 'a'))));
    std::optional<ClientResponse> r = c->ReadResponse();
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->status, 200);
  }
}

TEST_F(HttpServerTest, RejectsMalformedRequestsWith400AndCloses) {
  StartServer(Echo);
  for (const char* bad : {"GARBAGE\r\n\r\n", "GET / HTTP/1.1\r\nNo colon here\r\n\r\n",
                          "GET / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
                          "GET / HTTP/1.1\r\nX: a\r\n  folded\r\n\r\n"}) {
    auto c = Connect();
    ASSERT_TRUE(c->Send(bad));
    std::optional<ClientResponse> r = c->ReadResponse();
    ASSERT_TRUE(r.has_value()) << bad;
    EXPECT_EQ(r->status, 400) << bad;
    EXPECT_EQ(c->WaitClosed(absl::Seconds(10)), RawConnection::Outcome::kEof) << bad;
  }
  auto c = Connect();
  ASSERT_TRUE(c->Send("GET / HTTP/2.0\r\n\r\n"));
  std::optional<ClientResponse> r = c->ReadResponse();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 505);
}

TEST_F(HttpServerTest, AnswersLaterFromAnotherThread) {
  std::mutex mu;
  std::vector<HttpResponder> pending;
  StartServer([&](const HttpRequest&, HttpResponder responder) {
    std::lock_guard<std::mutex> lock(mu);
    pending.push_back(std::move(responder));
  });
  std::thread client_thread([&] {
    CurlClient client;
    testing::CurlResult r = client.Request("GET", Url("/later"));
    EXPECT_EQ(r.code, CURLE_OK);
    EXPECT_EQ(r.response.status, 202);
    EXPECT_EQ(r.response.body, "later");
  });
  ASSERT_TRUE(Eventually([&] {
    std::lock_guard<std::mutex> lock(mu);
    return !pending.empty();
  }));
  {
    std::lock_guard<std::mutex> lock(mu);
    pending[0].Respond(HttpResponse::Text(202, "later"));
    EXPECT_TRUE(pending[0].done());
    pending[0].Respond(HttpResponse::Text(500, "ignored: second answer"));
  }
  client_thread.join();
}

TEST_F(HttpServerTest, ClosesWithoutAResponse) {
  StartServer([](const HttpRequest&, HttpResponder responder) { responder.Close(); });
  auto c = Connect();
  ASSERT_TRUE(c->Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_EQ(c->WaitClosed(absl::Seconds(10)), RawConnection::Outcome::kEof);
  EXPECT_TRUE(c->buffered().empty());
}

TEST_F(HttpServerTest, ResetsWithoutAResponse) {
  StartServer([](const HttpRequest&, HttpResponder responder) { responder.Close(/*reset=*/true); });
  auto c = Connect();
  ASSERT_TRUE(c->Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_EQ(c->WaitClosed(absl::Seconds(10)), RawConnection::Outcome::kReset);
  CurlClient client;
  EXPECT_NE(client.Request("GET", Url("/")).code, CURLE_OK);
}

TEST_F(HttpServerTest, HangsUntilTheClientGivesUp) {
  StartServer([](const HttpRequest&, HttpResponder responder) { responder.Hang(); });
  CurlClient client;
  testing::CurlResult r =
      client.Request("GET", Url("/hang"), {}, std::nullopt, absl::Milliseconds(200));
  EXPECT_EQ(r.code, CURLE_OPERATION_TIMEDOUT);
  // The abandoned connection is closed once the client goes away.
  EXPECT_TRUE(Eventually([&] { return server_->stats().connections_open == 0; }));
}

TEST_F(HttpServerTest, RespondsThenCloses) {
  StartServer([](const HttpRequest&, HttpResponder responder) {
    HttpResponse r = HttpResponse::Text(503, "bye");
    r.close_connection = true;
    responder.Respond(std::move(r));
  });
  auto c = Connect();
  ASSERT_TRUE(c->Send("GET / HTTP/1.1\r\nHost: x\r\n\r\nGET /second HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::optional<ClientResponse> r = c->ReadResponse();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(r->body, "bye");
  EXPECT_EQ(r->Header("Connection"), "close");
  EXPECT_EQ(c->WaitClosed(absl::Seconds(10)), RawConnection::Outcome::kEof);
  EXPECT_EQ(server_->stats().requests, 1u);
}

TEST_F(HttpServerTest, AHalfClosedClientGetsItsAnswersAndThenEof) {
  StartServer(Echo);
  for (int i = 0; i < 20; ++i) {
    auto c = Connect();
    // Request and FIN typically arrive together.
    ASSERT_TRUE(c->Send("GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n"));
    c->ShutdownWrite();
    std::optional<ClientResponse> a = c->ReadResponse();
    ASSERT_TRUE(a.has_value());
    EXPECT_THAT(a->body, HasSubstr("GET /a"));
    std::optional<ClientResponse> b = c->ReadResponse();
    ASSERT_TRUE(b.has_value());
    EXPECT_THAT(b->body, HasSubstr("GET /b"));
    EXPECT_EQ(c->WaitClosed(absl::Seconds(10)), RawConnection::Outcome::kEof);
  }
  EXPECT_TRUE(Eventually([&] { return server_->stats().connections_open == 0; }));
}

TEST_F(HttpServerTest, ClientConnectionCloseIsHonoured) {
  StartServer(Echo);
  auto c = Connect();
  ASSERT_TRUE(c->Send("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  std::optional<ClientResponse> r = c->ReadResponse();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->Header("Connection"), "close");
  EXPECT_EQ(c->WaitClosed(absl::Seconds(10)), RawConnection::Outcome::kEof);
}

TEST_F(HttpServerTest, Http10ClosesUnlessKeepAliveIsRequested) {
  StartServer(Echo);
  {
    auto c = Connect();
    ASSERT_TRUE(c->Send("GET / HTTP/1.0\r\n\r\n"));
    ASSERT_TRUE(c->ReadResponse().has_value());
    EXPECT_EQ(c->WaitClosed(absl::Seconds(10)), RawConnection::Outcome::kEof);
  }
  auto c = Connect();
  ASSERT_TRUE(c->Send("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
  std::optional<ClientResponse> r = c->ReadResponse();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->Header("Connection"), "keep-alive");
  ASSERT_TRUE(c->Send("GET /again HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
  EXPECT_TRUE(c->ReadResponse().has_value());
}

TEST_F(HttpServerTest, ADroppedResponderAnswers500) {
  StartServer([](const HttpRequest&, HttpResponder) {});
  CurlClient client;
  testing::CurlResult r = client.Request("GET", Url("/"));
  ASSERT_EQ(r.code, CURLE_OK);
  EXPECT_EQ(r.response.status, 500);
}

TEST_F(HttpServerTest, HeadResponsesCarryTheLengthButNoBody) {
  StartServer(Echo);
  auto c = Connect();
  ASSERT_TRUE(c->Send("HEAD /h HTTP/1.1\r\nHost: x\r\n\r\nGET /g HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::optional<ClientResponse> head = c->ReadResponse(absl::Seconds(10), /*head=*/true);
  ASSERT_TRUE(head.has_value());
  EXPECT_NE(head->Header("Content-Length"), "0");
  std::optional<ClientResponse> get = c->ReadResponse();
  ASSERT_TRUE(get.has_value());
  EXPECT_THAT(get->body, HasSubstr("GET /g"));
}

class TempFile {
 public:
  explicit TempFile(const std::string& contents) {
    char name[] = "/tmp/http_server_test_XXXXXX";
    int fd = ::mkstemp(name);
    path_ = name;
    ::close(fd);
    std::ofstream(path_, std::ios::binary) << contents;
  }
  ~TempFile() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string Pattern(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 7 + i / 251) & 0xff);
  return s;
}

TEST_F(HttpServerTest, StreamsAFileWithRanges) {
  const std::string contents = Pattern(3 * 1024 * 1024 + 17);
  TempFile file(contents);
  StartServer([&](const HttpRequest& r, HttpResponder responder) {
    prusaconnect::StatusOr<std::shared_ptr<BodySource>> source = OpenFileBody(file.path());
    ASSERT_TRUE(source.ok());
    responder.Respond(MakeBodyResponse(r, *source, "application/octet-stream"));
  });
  CurlClient client;
  testing::CurlResult full = client.Request("GET", Url("/f"));
  ASSERT_EQ(full.code, CURLE_OK);
  EXPECT_EQ(full.response.status, 200);
  EXPECT_EQ(full.response.Header("Accept-Ranges"), "bytes");
  EXPECT_TRUE(full.response.body == contents);

  testing::CurlResult tail = client.Request("GET", Url("/f"), {"Range: bytes=1000000-"});
  ASSERT_EQ(tail.code, CURLE_OK);
  EXPECT_EQ(tail.response.status, 206);
  EXPECT_EQ(tail.response.Header("Content-Range"),
            absl::StrCat("bytes 1000000-", contents.size() - 1, "/", contents.size()));
  EXPECT_TRUE(tail.response.body == contents.substr(1000000));

  testing::CurlResult mid = client.Request("GET", Url("/f"), {"Range: bytes=10-19"});
  EXPECT_EQ(mid.response.status, 206);
  EXPECT_EQ(mid.response.body, contents.substr(10, 10));

  testing::CurlResult suffix = client.Request("GET", Url("/f"), {"Range: bytes=-5"});
  EXPECT_EQ(suffix.response.status, 206);
  EXPECT_EQ(suffix.response.body, contents.substr(contents.size() - 5));

  testing::CurlResult beyond =
      client.Request("GET", Url("/f"), {absl::StrCat("Range: bytes=", contents.size(), "-")});
  EXPECT_EQ(beyond.response.status, 416);
  EXPECT_EQ(beyond.response.Header("Content-Range"), absl::StrCat("bytes */", contents.size()));

  testing::CurlResult multi = client.Request("GET", Url("/f"), {"Range: bytes=0-1,5-6"});
  EXPECT_EQ(multi.response.status, 200);  // Multiple ranges are not supported: full body.
}

TEST_F(HttpServerTest, StreamsAGeneratedBodyChunkedAndCloseDelimited) {
  auto make = [](BodyFraming framing) {
    HttpResponse r;
    r.source = GeneratedBody(1000000, [](uint64_t offset, char* buf, size_t len) {
      for (size_t i = 0; i < len; ++i) buf[i] = static_cast<char>('a' + (offset + i) % 26);
    });
    r.framing = framing;
    return r;
  };
  StartServer([&](const HttpRequest& r, HttpResponder responder) {
    responder.Respond(
        make(r.path == "/chunked" ? BodyFraming::kChunked : BodyFraming::kCloseDelimited));
  });
  std::string expected(1000000, '\0');
  for (size_t i = 0; i < expected.size(); ++i) expected[i] = static_cast<char>('a' + i % 26);

  auto c = Connect();
  ASSERT_TRUE(c->Send("GET /chunked HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::optional<ClientResponse> chunked = c->ReadResponse();
  ASSERT_TRUE(chunked.has_value());
  EXPECT_EQ(chunked->Header("Transfer-Encoding"), "chunked");
  EXPECT_TRUE(chunked->body == expected);

  ASSERT_TRUE(c->Send("GET /close HTTP/1.1\r\nHost: x\r\n\r\n"));  // Same connection.
  std::optional<ClientResponse> closed = c->ReadResponse();
  ASSERT_TRUE(closed.has_value());
  EXPECT_FALSE(closed->Header("Content-Length").has_value());
  EXPECT_EQ(closed->Header("Connection"), "close");
  EXPECT_TRUE(closed->body == expected);
}

TEST_F(HttpServerTest, ThrottledBodiesAreCompleteAndNoFasterThanTheRate) {
  StartServer([](const HttpRequest&, HttpResponder responder) {
    HttpResponse r = HttpResponse::Text(200, std::string(30000, 'z'));
    r.throttle_bytes_per_sec = 100000;  // 10 kB per 100 ms window.
    responder.Respond(std::move(r));
  });
  CurlClient client;
  absl::Time start = absl::Now();
  testing::CurlResult r = client.Request("GET", Url("/t"));
  absl::Duration took = absl::Now() - start;
  ASSERT_EQ(r.code, CURLE_OK);
  EXPECT_EQ(r.response.body, std::string(30000, 'z'));
  EXPECT_GE(took, absl::Milliseconds(200));  // Three windows.
}

TEST_F(HttpServerTest, StallsAfterSomeBodyBytes) {
  StartServer([](const HttpRequest&, HttpResponder responder) {
    HttpResponse r = HttpResponse::Text(200, std::string(5000, 's'));
    r.stall_after_body_bytes = 1234;
    responder.Respond(std::move(r));
  });
  CurlClient client;
  testing::CurlResult r = client.Request("GET", Url("/s"), {}, std::nullopt, absl::Seconds(1));
  EXPECT_EQ(r.code, CURLE_OPERATION_TIMEDOUT);
  EXPECT_EQ(r.response.body.size(), 1234u);
  EXPECT_EQ(r.response.Header("Content-Length"), "5000");
}

TEST_F(HttpServerTest, PausedListenerRefusesConnectionsAndResumesOnTheSamePort) {
  StartServer(Echo);
  uint16_t port = server_->port();
  auto idle = Connect();
  ASSERT_TRUE(idle->Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(idle->ReadResponse().has_value());

  server_->PauseListening();
  EXPECT_FALSE(server_->listening());
  int error = 0;
  EXPECT_EQ(RawConnection::Connect(port, &error), nullptr);
  EXPECT_EQ(error, ECONNREFUSED);
  // Idle keep-alive connections were closed too, so clients must reconnect.
  EXPECT_EQ(idle->WaitClosed(absl::Seconds(10)), RawConnection::Outcome::kEof);

  ASSERT_TRUE(server_->ResumeListening().ok());
  EXPECT_TRUE(server_->listening());
  EXPECT_EQ(server_->port(), port);
  CurlClient client;
  EXPECT_EQ(client.Request("GET", Url("/back")).response.status, 200);
}

TEST_F(HttpServerTest, TimersRunOnTheLoopAndCanBeCancelled) {
  StartServer(Echo);
  std::promise<void> fired;
  std::future<void> fired_future = fired.get_future();
  std::atomic<bool> cancelled_ran{false};
  std::atomic<bool> on_loop{false};
  HttpServer::TimerId cancelled =
      server_->RunAfter(absl::Milliseconds(20), [&] { cancelled_ran = true; });
  server_->CancelTimer(cancelled);
  server_->RunAfter(absl::Milliseconds(40), [&] {
    on_loop = server_->InLoopThread();
    fired.set_value();
  });
  ASSERT_EQ(fired_future.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_TRUE(on_loop);
  EXPECT_FALSE(cancelled_ran);
  EXPECT_FALSE(server_->InLoopThread());
  bool ran = false;
  EXPECT_TRUE(server_->RunInLoop([&] { ran = server_->InLoopThread(); }));
  EXPECT_TRUE(ran);
}

TEST_F(HttpServerTest, StopsCleanlyWithOpenConnectionsAndPendingAnswers) {
  std::mutex mu;
  std::vector<HttpResponder> pending;
  StartServer([&](const HttpRequest&, HttpResponder responder) {
    std::lock_guard<std::mutex> lock(mu);
    pending.push_back(std::move(responder));
  });
  auto c = Connect();
  ASSERT_TRUE(c->Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(Eventually([&] {
    std::lock_guard<std::mutex> lock(mu);
    return !pending.empty();
  }));
  server_->Stop();
  EXPECT_EQ(c->WaitClosed(absl::Seconds(10)), RawConnection::Outcome::kEof);
  // Answering after Stop is a harmless no-op.
  pending[0].Respond(HttpResponse::Text(200, "late"));
  server_->Stop();
  EXPECT_FALSE(server_->RunInLoop([] {}));
}

TEST_F(HttpServerTest, HandlesManyConcurrentKeepAliveConnections) {
  StartServer(Echo);
  constexpr int kConnections = 400;
  constexpr int kRequests = 5;
  std::vector<std::unique_ptr<RawConnection>> conns;
  for (int i = 0; i < kConnections; ++i) {
    conns.push_back(RawConnection::Connect(server_->port()));
    ASSERT_NE(conns.back(), nullptr);
  }
  for (int round = 0; round < kRequests; ++round) {
    for (int i = 0; i < kConnections; ++i) {
      ASSERT_TRUE(conns[i]->Send(absl::StrCat("POST /c", i,
                                              " HTTP/1.1\r\nHost: x\r\n"
                                              "Content-Length: 1\r\n\r\n",
                                              round)));
    }
    for (int i = 0; i < kConnections; ++i) {
      std::optional<ClientResponse> r = conns[i]->ReadResponse();
      ASSERT_TRUE(r.has_value());
      EXPECT_THAT(r->body, HasSubstr(absl::StrCat("/c", i, "? ")));
      EXPECT_THAT(r->body, HasSubstr(absl::StrCat("idx=", round, " len=1 body=", round)));
    }
  }
  EXPECT_EQ(server_->stats().connections_accepted, static_cast<uint64_t>(kConnections));
  EXPECT_EQ(server_->stats().requests, static_cast<uint64_t>(kConnections * kRequests));
}

// ---- Parser and helpers ----

TEST(RequestParserTest, ParsesARequestFedOneByteAtATime) {
  RequestParser parser({});
  const std::string wire =
      "POST /p/x?a=1&b=%20c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
      "3\r\nabc\r\n0\r\n\r\nGET /next HTTP/1.1\r\n\r\n";
  std::string buffered;
  size_t fed = 0;
  RequestParser::Result result = RequestParser::Result::kNeedMore;
  while (result == RequestParser::Result::kNeedMore && fed < wire.size()) {
    buffered.push_back(wire[fed++]);
    size_t consumed = 0;
    result = parser.Parse(buffered, &consumed);
    buffered.erase(0, consumed);
  }
  ASSERT_EQ(result, RequestParser::Result::kComplete);
  HttpRequest r = parser.TakeRequest();
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.path, "/p/x");
  EXPECT_EQ(r.query, "a=1&b=%20c");
  EXPECT_EQ(r.QueryParam("b"), " c");
  EXPECT_EQ(r.body, "abc");
  EXPECT_EQ(wire.substr(fed), "GET /next HTTP/1.1\r\n\r\n");
}

TEST(RequestParserTest, ClosesAfterRequestsWithBothTransferEncodingAndContentLength) {
  RequestParser parser({});
  std::string wire =
      "POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n";
  size_t consumed = 0;
  ASSERT_EQ(parser.Parse(wire, &consumed), RequestParser::Result::kComplete);
  EXPECT_TRUE(parser.force_close());
  EXPECT_EQ(parser.TakeRequest().body, "");
}

TEST(RequestParserTest, RejectsUnsupportedTransferCodings) {
  RequestParser parser({});
  size_t consumed = 0;
  ASSERT_EQ(parser.Parse("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", &consumed),
            RequestParser::Result::kError);
  EXPECT_EQ(parser.error_status(), 501);
}

TEST(ByteRangeTest, ParsesSingleRanges) {
  ByteRange r;
  EXPECT_EQ(ParseByteRange("bytes=0-", 10, &r), RangeParse::kSatisfiable);
  EXPECT_EQ(r.first, 0u);
  EXPECT_EQ(r.last, 9u);
  EXPECT_EQ(ParseByteRange("bytes=2-100", 10, &r), RangeParse::kSatisfiable);
  EXPECT_EQ(r.last, 9u);
  EXPECT_EQ(ParseByteRange("bytes=-3", 10, &r), RangeParse::kSatisfiable);
  EXPECT_EQ(r.first, 7u);
  EXPECT_EQ(ParseByteRange("bytes=10-", 10, &r), RangeParse::kUnsatisfiable);
  EXPECT_EQ(ParseByteRange("bytes=5-2", 10, &r), RangeParse::kNone);
  EXPECT_EQ(ParseByteRange("items=0-1", 10, &r), RangeParse::kNone);
  EXPECT_EQ(ParseByteRange("bytes=x-", 10, &r), RangeParse::kNone);
}

TEST(UrlDecodeTest, DecodesEscapes) {
  EXPECT_EQ(UrlDecode("a%2Fb+c%zz%4", false), "a/b+c%zz%4");
  EXPECT_EQ(UrlDecode("a+b", true), "a b");
}

}  // namespace
}  // namespace prusaconnect::emulator
