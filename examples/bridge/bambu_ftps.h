// Copyright 2026 The libprusaconnect Authors.
//
// FtpsClient: a Bambu printer's SD card over implicit FTPS (port 990, user
// bblp, the access code), through libcurl: list, delete, create and remove
// folders, upload. Each call is one blocking curl transfer on the caller's
// thread.
//
// The certificate: against a CA file when one is configured (the host name
// is not compared: the certificate names the printer's serial), else its
// SHA-256 fingerprint goes to `check_certificate` during the handshake
// (OpenSSL verify callback through CURLOPT_SSL_CTX_FUNCTION), before the
// password is sent.
#ifndef PRUSACONNECT_EXAMPLES_BRIDGE_BAMBU_FTPS_H_
#define PRUSACONNECT_EXAMPLES_BRIDGE_BAMBU_FTPS_H_

#include <prusaconnect/status.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace bridge {

struct FtpEntry {
  std::string name;
  bool is_dir = false;
  int64_t size = 0;
  std::optional<int64_t> m_timestamp;
};

// One line of a LIST answer in the Unix `ls -l` form vsftpd and ProFTPD
// use ("-rw-r--r-- 1 u g 1234 Dec  7 14:02 a b.gcode"); nullopt for lines
// that are not entries ("total 8", ".", ".."). `now` decides the year of
// dates given with a time.
std::optional<FtpEntry> ParseFtpListLine(const std::string& line, int64_t now);

struct FtpsTarget {
  std::string host;
  int port = 990;
  std::string username = "bblp";
  std::string password;
  std::string ca_file;
  std::function<bool(const std::string& sha256_hex)> check_certificate;
  int64_t timeout_ms = 30000;  // list, delete, folders; uploads have none
};

class FtpsClient {
 public:
  explicit FtpsClient(FtpsTarget target) : target_(std::move(target)) {}

  // `dir` relative to the card's root ("" for the root).
  prusaconnect::StatusOr<std::vector<FtpEntry>> List(const std::string& dir) const;
  prusaconnect::Status DeleteFile(const std::string& path) const;
  prusaconnect::Status MakeDir(const std::string& path) const;
  prusaconnect::Status RemoveDir(const std::string& path) const;
  // Creates missing folders on the way.
  prusaconnect::Status Upload(const std::string& path, const std::string& local_file) const;

  const FtpsTarget& target() const { return target_; }

 private:
  prusaconnect::Status Quote(const std::string& command, const std::string& what) const;

  FtpsTarget target_;
};

}  // namespace bridge

#endif  // PRUSACONNECT_EXAMPLES_BRIDGE_BAMBU_FTPS_H_
