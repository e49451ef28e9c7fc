// Copyright 2026 The libprusaconnect Authors.
//
// The Printer facade without traffic: identity, configuration from
// prusa_printer_settings.ini, and that constructing printers costs no thread.
#include "prusaconnect/printer.h"

#include <dirent.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "prusaconnect/util.h"
#include "transport/engine.h"

namespace prusaconnect {
namespace {

using ::testing::HasSubstr;

int ThreadCount() {
  int n = 0;
  if (DIR* d = opendir("/proc/self/task")) {
    while (dirent* e = readdir(d)) {
      if (e->d_name[0] != '.') ++n;
    }
    closedir(d);
  }
  return n;
}

std::string TempFile(const std::string& text) {
  char path[] = "/tmp/pc-ini-XXXXXX";
  int fd = mkstemp(path);
  EXPECT_GE(fd, 0);
  close(fd);
  std::ofstream(path) << text;
  return path;
}

TEST(Printer, ConnectionFromConfigReadsPrusaLinkSettings) {
  std::string ini = TempFile(
      "[printer]\ntype = MK3\n\n[service::connect]\nhostname = server\ntls = False\n"
      "port = 8000\ntoken = a44b552a12d96d3155cb\n");
  Printer p(PrinterType::I3MK3S, "SN", "fp");
  ASSERT_TRUE(p.connection_from_config(ini).ok());
  EXPECT_EQ(p.server(), "http://server:8000");
  EXPECT_EQ(p.token(), "a44b552a12d96d3155cb");
  EXPECT_EQ(p.conditions().TOKEN.state(), CondState::kOk);
  std::remove(ini.c_str());
}

TEST(Printer, ConnectionFromConfigErrorsNameTheProblem) {
  Printer p(PrinterType::I3MK3S, "SN", "fp");
  Status missing = p.connection_from_config("/nonexistent/prusa_printer_settings.ini");
  EXPECT_EQ(missing.code(), StatusCode::kNotFound);
  EXPECT_EQ(missing.message(), "ini file: `/nonexistent/prusa_printer_settings.ini` doesn't exist");
  std::string ini = TempFile("[service::connect]\nhostname = server\n");
  Status no_token = p.connection_from_config(ini);
  EXPECT_FALSE(no_token.ok());
  EXPECT_THAT(no_token.message(), HasSubstr("token"));
  EXPECT_EQ(p.server(), "");  // nothing applied on error
  std::remove(ini.c_str());
}

TEST(Printer, ConnectUrlAsTheSdk) {
  EXPECT_EQ(Printer::connect_url("connect.prusa3d.com", true), "https://connect.prusa3d.com");
  EXPECT_EQ(Printer::connect_url("server", false, 8000), "http://server:8000");
}

TEST(Printer, IdentityIsSetOnce) {
  Printer p;
  EXPECT_FALSE(p.is_initialised());
  EXPECT_TRUE(p.set_sn("SN1").ok());
  EXPECT_TRUE(p.set_fingerprint(FingerprintFromSerial("SN1")).ok());
  EXPECT_TRUE(p.set_type(PrinterType::I3MK3).ok());
  EXPECT_TRUE(p.is_initialised());
  EXPECT_EQ(p.set_sn("SN2").code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(p.fingerprint().size(), 64u);
  EXPECT_EQ(p.type()->ToString(), "1.3.0");
}

TEST(Printer, ConstructingPrintersStartsNoThread) {
  int before = ThreadCount();
  {
    auto network = std::make_shared<Network>();
    PrinterOptions o;
    o.network = network;
    std::vector<std::unique_ptr<Printer>> printers;
    for (int i = 0; i < 100; ++i) {
      printers.push_back(
          std::make_unique<Printer>(PrinterType::I3MK3, "SN" + std::to_string(i), "fp", o));
      printers.back()->event_cb(Event::INFO, Source::WUI);  // no token: dropped
    }
    EXPECT_EQ(ThreadCount(), before);
    EXPECT_EQ(network->printer_count(), 0u);
  }
  EXPECT_EQ(ThreadCount(), before);
}

TEST(Network, LastReferenceMayBeDroppedOnAHandlerThread) {
  auto network = std::make_shared<Network>();
  std::mutex mu;
  std::condition_variable cv;
  bool go = false, done = false;
  network->engine()->Post([keep = network, &mu, &cv, &go, &done]() mutable {
    {
      std::unique_lock<std::mutex> l(mu);
      cv.wait(l, [&] { return go; });
    }
    keep.reset();  // the last reference: ~Engine runs on this handler thread
    std::lock_guard<std::mutex> l(mu);
    done = true;
    cv.notify_all();
  });
  network.reset();
  std::unique_lock<std::mutex> l(mu);
  go = true;
  cv.notify_all();
  EXPECT_TRUE(cv.wait_for(l, std::chrono::seconds(30), [&] { return done; }));
}

TEST(Printer, TelemetryStructRendersTypedFieldsThenExtra) {
  Telemetry t;
  t.temp_nozzle = 215.0;
  t.progress = 42;
  t.material = "PLA";
  t.extra.set("temp_nozzle", 1);  // typed field wins
  t.extra.set("slot", Json::MakeObject({{"active", 1}}));
  EXPECT_EQ(t.ToJson().Dump(),
            R"({"temp_nozzle":215.0,"progress":42,"material":"PLA","slot":{"active":1}})");
}

}  // namespace
}  // namespace prusaconnect
