// Copyright 2026 The libprusaconnect Authors.
//
// TransferManager on a fake HttpClient (transport/http_client.h): each
// download attempt plays one scripted answer, so resuming with Range,
// servers that ignore ranges, redirects and their origin checks, stopping
// and retries are exercised without a server. The outcome is read from the
// events the printer's session queues and from the storage folder. (The
// same flows against the emulator over loopback: integration/transfer_test.)
#include <sys/stat.h>

#include <chrono>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "facade/printer_session.h"
#include "files_test_util.h"
#include "gtest/gtest.h"
#include "protocol/session.h"
#include "transfer/transfer.h"
#include "transport/http_client.h"
#include "util/clock.h"

namespace prusaconnect {
namespace {

using internal::FakeClock;
using internal::FetchCallbacks;
using internal::FetchRequest;
using internal::FetchResult;
using internal::HeaderList;
using internal::HttpClient;
using internal::HttpRequest;
using internal::HttpResponse;
using internal::PrinterSession;
using internal::Session;
using internal::TransferManager;
using internal::TransportError;
using testing_files::ReadText;
using testing_files::Snapshot;
using testing_files::TempDir;

constexpr char kServer[] = "https://connect.example";
constexpr char kFileUrl[] = "https://connect.example/f/box.gcode";

// What the server does for one attempt.
struct Answer {
  int status = 200;
  HeaderList headers;  // names in lower case, as the transport gives them
  std::string body;    // sent in pieces of `piece` bytes
  size_t piece = 4;
  // The connection drops after this many body bytes (npos: it does not).
  size_t cut_after = std::string::npos;
  std::string redirect;          // a 302 to this URL instead
  std::function<void()> during;  // runs after the first piece arrived
};

// The fake server behind every client the factory makes.
struct FakeServer {
  std::mutex mu;
  std::deque<Answer> script;
  std::vector<FetchRequest> requests;

  void Add(Answer a) {
    std::lock_guard<std::mutex> lock(mu);
    script.push_back(std::move(a));
  }
  std::vector<FetchRequest> Requests() {
    std::lock_guard<std::mutex> lock(mu);
    return requests;
  }

  FetchResult Play(const FetchRequest& request, FetchCallbacks& cb) {
    Answer a;
    {
      std::lock_guard<std::mutex> lock(mu);
      requests.push_back(request);
      if (script.empty()) {
        ADD_FAILURE() << "no answer left for " << request.url;
        FetchResult r;
        r.error = TransportError::kConnect;
        r.message = "no answer scripted";
        return r;
      }
      a = std::move(script.front());
      script.pop_front();
    }
    FetchResult r;
    if (!a.redirect.empty()) {
      r.status = 302;
      r.redirect_url = a.redirect;
      return r;
    }
    r.status = a.status;
    if (cb.on_head && !cb.on_head(a.status, a.headers)) {
      r.ended_by_us = true;
      return r;
    }
    if (a.status < 200 || a.status >= 300) return r;
    size_t end = std::min(a.body.size(), a.cut_after);
    for (size_t at = 0; at < end; at += a.piece) {
      if (cb.cancelled && cb.cancelled()) {
        r.ended_by_us = true;
        return r;
      }
      size_t n = std::min(a.piece, end - at);
      if (!cb.on_data(a.body.data() + at, n)) {
        r.ended_by_us = true;
        return r;
      }
      if (at == 0 && a.during) a.during();
    }
    if (end < a.body.size()) {
      r.error = TransportError::kConnection;
      r.message = "connection reset by the fake";
    }
    return r;
  }
};

class FakeHttp : public HttpClient {
 public:
  explicit FakeHttp(FakeServer* server) : server_(server) {}
  HttpResponse Send(const HttpRequest& r) override {
    ADD_FAILURE() << "transfers stream, they do not Send: " << r.url;
    return HttpResponse();
  }
  FetchResult Stream(const FetchRequest& r, FetchCallbacks& cb) override {
    return server_->Play(r, cb);
  }

 private:
  FakeServer* server_;
};

const std::string* Header(const HeaderList& headers, const std::string& name) {
  for (const auto& [n, v] : headers) {
    if (n == name) return &v;
  }
  return nullptr;
}

HeaderList Head(const std::string& type, const std::string& length, const std::string& range = "") {
  HeaderList h = {{"content-type", type}};
  if (!length.empty()) h.emplace_back("content-length", length);
  if (!range.empty()) h.emplace_back("content-range", range);
  return h;
}

class TransferUnitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    session_ = std::make_shared<PrinterSession>(PrinterType::I3MK3S, "SN0001", "fp",
                                                PrinterOptions{}, &clock_);
    session_->set_connection(kServer, "tok");
    fs_ = std::make_shared<Filesystem>(nullptr);
    ASSERT_TRUE(fs_->Attach(usb_.path(), "usb").ok());
    outside_before_ = Snapshot(outside_.path());
  }
  void TearDown() override {
    if (manager_) manager_->Shutdown();
    EXPECT_EQ(Snapshot(outside_.path()), outside_before_);
  }

  TransferManager& Manager(TransferOptions options = Fast()) {
    manager_ = std::make_unique<TransferManager>(
        session_, fs_, std::move(options), [this] { return std::make_unique<FakeHttp>(&server_); },
        &clock_);
    return *manager_;
  }
  static TransferOptions Fast() {
    TransferOptions o;
    o.retry_backoff_min_ms = 1;
    o.retry_backoff_max_ms = 2;
    return o;
  }

  // Starts a download of kFileUrl to /usb/box.gcode and waits for its end.
  TransferInfo Download(TransferManager& m, const std::string& url = kFileUrl) {
    TransferManager::StartRequest req;
    req.type = TransferType::FROM_CONNECT;
    req.path = "/usb/box.gcode";
    req.url = url;
    StatusOr<TransferInfo> started = m.Start(req);
    EXPECT_TRUE(started.ok()) << started.status().message();
    EXPECT_TRUE(m.WaitIdle(10000)) << "the transfer did not end";
    return m.Info();
  }

  // The events the session queued, in order ("TRANSFER_INFO", ...), with
  // their JSON bodies in *bodies.
  std::vector<std::string> Events(std::vector<Json>* bodies = nullptr) {
    std::vector<std::string> names;
    for (;;) {
      int64_t wake = 0;
      std::optional<Session::Outgoing> out = session_->Next(clock_.MonoMicros(), &wake);
      if (!out) return names;
      if (out->kind == Session::Kind::kEvent) {
        StatusOr<Json> body = Json::Parse(out->request.body);
        EXPECT_TRUE(body.ok());
        if (body.ok()) {
          names.push_back(body->find("event")->as_string());
          if (bodies) bodies->push_back(*body);
        }
      }
      HttpResponse ok;
      ok.status = 204;
      session_->Complete(*out, ok, clock_.MonoMicros());
    }
  }

  bool Exists(const std::string& rel) {
    struct stat st;
    return lstat((usb_ / rel).c_str(), &st) == 0;
  }

  FakeClock clock_;
  std::shared_ptr<PrinterSession> session_;
  TempDir usb_;
  TempDir outside_;
  std::string outside_before_;
  std::shared_ptr<Filesystem> fs_;
  FakeServer server_;
  std::unique_ptr<TransferManager> manager_;
};

TEST_F(TransferUnitTest, DownloadsIntoTheStorageAndReportsFinished) {
  Answer a;
  a.headers = Head("text/x.gcode", "10");
  a.body = "G28\nG1 X1\n";
  server_.Add(a);
  TransferInfo info = Download(Manager());
  EXPECT_EQ(info.outcome, Event::TRANSFER_FINISHED);
  EXPECT_EQ(info.transferred, 10);
  EXPECT_EQ(ReadText(usb_ / "box.gcode"), "G28\nG1 X1\n");
  EXPECT_FALSE(Exists(".box.gcode.part"));
  std::vector<Json> bodies;
  EXPECT_EQ(Events(&bodies), (std::vector<std::string>{"TRANSFER_INFO", "TRANSFER_FINISHED"}));
  ASSERT_EQ(bodies.size(), 2u);
  EXPECT_EQ(bodies[1].find("data")->find("path")->as_string(), "/usb/box.gcode");
  // The Connect origin gets the printer's headers.
  std::vector<FetchRequest> reqs = server_.Requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_NE(Header(reqs[0].headers, "Token"), nullptr);
  EXPECT_EQ(reqs[0].offset, 0);
}

TEST_F(TransferUnitTest, ResumesWithRangeAfterALostConnection) {
  Answer first;
  first.headers = Head("text/x.gcode", "12");
  first.body = "0123456789AB";
  first.cut_after = 4;
  server_.Add(first);
  Answer second;
  second.status = 206;
  second.headers = Head("text/x.gcode", "8", "bytes 4-11/12");
  second.body = "456789AB";
  server_.Add(second);
  TransferInfo info = Download(Manager());
  EXPECT_EQ(info.outcome, Event::TRANSFER_FINISHED) << info.reason;
  EXPECT_EQ(ReadText(usb_ / "box.gcode"), "0123456789AB");
  std::vector<FetchRequest> reqs = server_.Requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].offset, 0);
  EXPECT_EQ(reqs[1].offset, 4);  // "Range: bytes=4-"
  EXPECT_EQ(Events(), (std::vector<std::string>{"TRANSFER_INFO", "TRANSFER_FINISHED"}));
}

TEST_F(TransferUnitTest, StartsOverWhenTheServerIgnoresTheRange) {
  Answer first;
  first.headers = Head("text/x.gcode", "12");
  first.body = "0123456789AB";
  first.cut_after = 8;
  server_.Add(first);
  Answer whole;  // 200 to a range request: the whole file again
  whole.headers = Head("text/x.gcode", "12");
  whole.body = "0123456789AB";
  server_.Add(whole);
  TransferInfo info = Download(Manager());
  EXPECT_EQ(info.outcome, Event::TRANSFER_FINISHED) << info.reason;
  EXPECT_EQ(ReadText(usb_ / "box.gcode"), "0123456789AB");  // not "01234567" + all of it
  std::vector<FetchRequest> reqs = server_.Requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[1].offset, 8);
}

TEST_F(TransferUnitTest, AWrongPartialAnswerMakesItStartOverWithoutRanges) {
  Answer first;
  first.headers = Head("text/x.gcode", "12");
  first.body = "0123456789AB";
  first.cut_after = 4;
  server_.Add(first);
  Answer wrong;  // not the part asked for
  wrong.status = 206;
  wrong.headers = Head("text/x.gcode", "4", "bytes 0-3/12");
  wrong.body = "0123";
  server_.Add(wrong);
  Answer whole;
  whole.headers = Head("text/x.gcode", "12");
  whole.body = "0123456789AB";
  server_.Add(whole);
  TransferInfo info = Download(Manager());
  EXPECT_EQ(info.outcome, Event::TRANSFER_FINISHED) << info.reason;
  EXPECT_EQ(ReadText(usb_ / "box.gcode"), "0123456789AB");
  std::vector<FetchRequest> reqs = server_.Requests();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(reqs[1].offset, 4);
  EXPECT_EQ(reqs[2].offset, 0);  // ranges given up
}

TEST_F(TransferUnitTest, RedirectToAnotherOriginCarriesNoPrinterHeaders) {
  Answer hop;
  hop.redirect = "https://cdn.example/blob/1";
  server_.Add(hop);
  Answer file;
  file.headers = Head("application/octet-stream", "3");
  file.body = "G28";
  server_.Add(file);
  TransferInfo info = Download(Manager());
  EXPECT_EQ(info.outcome, Event::TRANSFER_FINISHED) << info.reason;
  std::vector<FetchRequest> reqs = server_.Requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].url, kFileUrl);
  EXPECT_NE(Header(reqs[0].headers, "Token"), nullptr);
  EXPECT_NE(Header(reqs[0].headers, "Fingerprint"), nullptr);
  EXPECT_EQ(reqs[1].url, "https://cdn.example/blob/1");
  EXPECT_EQ(Header(reqs[1].headers, "Token"), nullptr);
  EXPECT_EQ(Header(reqs[1].headers, "Fingerprint"), nullptr);
  ASSERT_NE(Header(reqs[1].headers, "User-Agent"), nullptr);
}

TEST_F(TransferUnitTest, ARedirectThatIsNoHttpUrlAbortsWithoutWriting) {
  Answer hop;
  hop.redirect = "file:///etc/passwd";
  server_.Add(hop);
  TransferInfo info = Download(Manager());
  EXPECT_EQ(info.outcome, Event::TRANSFER_ABORTED);
  EXPECT_EQ(info.reason, "Invalid redirect to file:///etc/passwd");
  EXPECT_FALSE(Exists("box.gcode"));
  EXPECT_FALSE(Exists(".box.gcode.part"));
  EXPECT_EQ(Events(), (std::vector<std::string>{"TRANSFER_ABORTED"}));
}

TEST_F(TransferUnitTest, TooManyRedirectsAbort) {
  for (int i = 0; i < 6; ++i) {
    Answer hop;
    hop.redirect = "https://connect.example/hop/" + std::to_string(i);
    server_.Add(hop);
  }
  TransferInfo info = Download(Manager());
  EXPECT_EQ(info.outcome, Event::TRANSFER_ABORTED);
  EXPECT_EQ(info.reason, "Too many redirects");
  EXPECT_EQ(server_.Requests().size(), 6u);
}

TEST_F(TransferUnitTest, StopEndsItAsStoppedAndLeavesNothing) {
  Answer a;
  a.headers = Head("text/x.gcode", "4000");
  a.body = std::string(4000, 'x');
  a.during = [this] { EXPECT_TRUE(manager_->Stop(std::nullopt).ok()); };
  server_.Add(a);
  TransferInfo info = Download(Manager());
  EXPECT_EQ(info.outcome, Event::TRANSFER_STOPPED);
  EXPECT_LT(info.transferred, 4000);
  EXPECT_FALSE(Exists("box.gcode"));
  EXPECT_FALSE(Exists(".box.gcode.part"));
  EXPECT_EQ(Events(), (std::vector<std::string>{"TRANSFER_INFO", "TRANSFER_STOPPED"}));
  EXPECT_EQ(server_.Requests().size(), 1u);
}

TEST_F(TransferUnitTest, StopWithAnotherIdIsRefused) {
  Answer a;
  a.headers = Head("text/x.gcode", "40");
  a.body = std::string(40, 'x');
  a.during = [this] {
    uint32_t other = manager_->Info().transfer_id + 1;
    Status s = manager_->Stop(other);
    EXPECT_EQ(s.code(), StatusCode::kNotFound);
    EXPECT_EQ(s.message(), "Wrong transfer_id");
  };
  server_.Add(a);
  EXPECT_EQ(Download(Manager()).outcome, Event::TRANSFER_FINISHED);
}

TEST_F(TransferUnitTest, ServerErrorsAreRetriedThenAbort) {
  TransferOptions o = Fast();
  o.max_retries = 2;
  for (int i = 0; i < 3; ++i) {
    Answer busy;
    busy.status = 503;
    server_.Add(busy);
  }
  TransferInfo info = Download(Manager(o));
  EXPECT_EQ(info.outcome, Event::TRANSFER_ABORTED);
  EXPECT_EQ(info.reason, "Invalid status code: 503");
  EXPECT_EQ(server_.Requests().size(), 3u);  // the first try and two retries
  EXPECT_FALSE(Exists("box.gcode"));
}

TEST_F(TransferUnitTest, ARetryThatSucceedsFinishes) {
  Answer busy;
  busy.status = 429;
  server_.Add(busy);
  Answer file;
  file.headers = Head("text/plain", "3");
  file.body = "G28";
  server_.Add(file);
  TransferInfo info = Download(Manager());
  EXPECT_EQ(info.outcome, Event::TRANSFER_FINISHED) << info.reason;
  EXPECT_EQ(ReadText(usb_ / "box.gcode"), "G28");
}

TEST_F(TransferUnitTest, ClientErrorsAreNotRetried) {
  Answer gone;
  gone.status = 404;
  server_.Add(gone);
  TransferInfo info = Download(Manager());
  EXPECT_EQ(info.outcome, Event::TRANSFER_ABORTED);
  EXPECT_EQ(info.reason, "Invalid status code: 404");
  EXPECT_EQ(server_.Requests().size(), 1u);
}

TEST_F(TransferUnitTest, RefusesAWrongContentTypeAndTooBigFiles) {
  Answer html;
  html.headers = Head("text/html; charset=utf-8", "3");
  html.body = "<p>";
  server_.Add(html);
  TransferInfo info = Download(Manager());
  EXPECT_EQ(info.outcome, Event::TRANSFER_ABORTED);
  EXPECT_EQ(info.reason, "Invalid content type: text/html; charset=utf-8");

  TransferOptions small = Fast();
  small.max_size = 5;
  Answer big;
  big.headers = Head("text/x.gcode", "6");
  big.body = "G28\nG2";
  server_.Add(big);
  info = Download(Manager(small));
  EXPECT_EQ(info.outcome, Event::TRANSFER_ABORTED);
  EXPECT_EQ(info.reason, "File too big: 6 bytes (the limit is 5 bytes)");
  EXPECT_FALSE(Exists("box.gcode"));
}

TEST_F(TransferUnitTest, MoreDataThanAnnouncedAborts) {
  Answer liar;
  liar.headers = Head("text/x.gcode", "4");
  liar.body = "G28\nG1";
  liar.piece = 6;
  server_.Add(liar);
  TransferInfo info = Download(Manager());
  EXPECT_EQ(info.outcome, Event::TRANSFER_ABORTED);
  EXPECT_EQ(info.reason, "The server sent more data than announced");
  EXPECT_FALSE(Exists("box.gcode"));
}

TEST_F(TransferUnitTest, ProgressIsTimedWithTheInjectedClock) {
  Answer a;
  a.headers = Head("text/x.gcode", "8");
  a.body = "01234567";
  a.during = [this] { clock_.Advance(3 * 1000 * 1000); };
  server_.Add(a);
  TransferManager& m = Manager();
  // As the finished callback sees it, times included (it runs on the
  // transfer's thread after the transfer is marked done).
  std::promise<TransferInfo> done;
  m.SetFinishedCb([&done](const TransferInfo& i) { done.set_value(i); });
  TransferInfo info = Download(m);
  EXPECT_EQ(info.outcome, Event::TRANSFER_FINISHED);
  std::future<TransferInfo> called = done.get_future();
  ASSERT_EQ(called.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  TransferInfo finished = called.get();
  EXPECT_EQ(finished.time_transferring, 3);
  EXPECT_EQ(finished.transferred, 8);
  EXPECT_FALSE(finished.in_progress);
}

}  // namespace
}  // namespace prusaconnect
