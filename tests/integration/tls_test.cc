// Copyright 2026 The libprusaconnect Authors.
//
// TLS against a real HTTPS server on 127.0.0.1 with a self-signed
// certificate made at test time: certificates are verified by default, and
// only an explicit option (or the certificate as CA file) lets a request
// through.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "gtest/gtest.h"
#include "prusaconnect/prusaconnect.h"

namespace prusaconnect {
namespace {

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/pc-tls-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    std::string cmd =
        "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 "
        "-addext subjectAltName=IP:127.0.0.1 -keyout " +
        dir_ + "/key.pem -out " + dir_ + "/cert.pem >/dev/null 2>&1";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << "openssl CLI needed";
    pid_ = fork();
    ASSERT_GE(pid_, 0);
    if (pid_ == 0) {
      std::string cert = dir_ + "/cert.pem", key = dir_ + "/key.pem", port = dir_ + "/port";
      execl("/usr/bin/python3", "python3", HTTPS_SERVER_SCRIPT, cert.c_str(), key.c_str(),
            port.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    for (int i = 0; i < 300 && port_.empty(); ++i) {
      std::ifstream f(dir_ + "/port");
      std::getline(f, port_);
      if (port_.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ASSERT_FALSE(port_.empty()) << "HTTPS server did not start";
    network_ = std::make_shared<Network>();
  }

  void TearDown() override {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
    std::system(("rm -rf " + dir_).c_str());
  }

  std::unique_ptr<Printer> MakePrinter(PrinterOptions o) {
    o.network = network_;
    o.backoff_max_ms = 200;
    auto p = std::make_unique<Printer>(PrinterType::I3MK3S, "SN-TLS", "fp", o);
    p->set_connection("https://127.0.0.1:" + port_, "token");
    return p;
  }

  std::string dir_;
  pid_t pid_ = -1;
  std::string port_;
  std::shared_ptr<Network> network_;
};

TEST_F(TlsTest, SelfSignedCertificateIsRefusedByDefault) {
  std::unique_ptr<Printer> p = MakePrinter({});
  std::atomic<int> broke{0};
  p->conditions().HTTP.add_broke_callback([&](const Condition&, CondState) { ++broke; });
  p->start();
  p->event_cb(Event::INFO, Source::WUI, {}, Json());
  for (int i = 0; i < 1000 && broke == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_GT(broke.load(), 0);
  EXPECT_EQ(p->stats().events_sent, 0u);
  EXPECT_EQ(p->stats().events_buffered, 1u);  // kept for later, not lost
}

TEST_F(TlsTest, ExplicitOptionAllowsASelfSignedLocalServer) {
  PrinterOptions o;
  o.verify_tls = false;
  std::unique_ptr<Printer> p = MakePrinter(o);
  p->start();
  p->event_cb(Event::INFO, Source::WUI, {}, Json());
  ASSERT_TRUE(p->flush(30000));
  EXPECT_EQ(p->stats().events_sent, 1u);
}

TEST_F(TlsTest, CertificateAsCaFileIsVerifiedAndAccepted) {
  PrinterOptions o;
  o.ca_file = dir_ + "/cert.pem";
  std::unique_ptr<Printer> p = MakePrinter(o);
  p->start();
  p->event_cb(Event::INFO, Source::WUI, {}, Json());
  ASSERT_TRUE(p->flush(30000));
  EXPECT_EQ(p->stats().events_sent, 1u);
  EXPECT_TRUE(p->conditions().HTTP);
}

}  // namespace
}  // namespace prusaconnect
