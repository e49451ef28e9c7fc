// Copyright 2026 The libprusaconnect Authors.
#include "bambu_ftps.h"

#include <curl/curl.h>

#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>
#include <sstream>

#include "tls_pin.h"

namespace bridge {

namespace pc = prusaconnect;

namespace {

const char* const kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                               "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

size_t Collect(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

CURLcode InstallPolicy(CURL*, void* ssl_ctx, void* policy) {
  hostio::InstallTlsPolicy(static_cast<SSL_CTX*>(ssl_ctx), static_cast<hostio::TlsPolicy*>(policy));
  return CURLE_OK;
}

// "a b/c#.gcode" → "a%20b/c%23.gcode": each segment escaped, slashes kept.
std::string EscapePath(CURL* curl, const std::string& path) {
  std::string out;
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    std::string seg =
        path.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    char* e = curl_easy_escape(curl, seg.c_str(), static_cast<int>(seg.size()));
    out += e != nullptr ? e : "";
    curl_free(e);
    if (slash == std::string::npos) break;
    out += '/';
    start = slash + 1;
  }
  return out;
}

struct Transfer {
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl{curl_easy_init(), curl_easy_cleanup};
  hostio::TlsPolicy policy;
  char error[CURL_ERROR_SIZE] = {0};
};

void Setup(Transfer* t, const FtpsTarget& target, const std::string& path, bool timed) {
  CURL* c = t->curl.get();
  std::string url =
      "ftps://" + target.host + ":" + std::to_string(target.port) + "/" + EscapePath(c, path);
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_USERNAME, target.username.c_str());
  curl_easy_setopt(c, CURLOPT_PASSWORD, target.password.c_str());
  curl_easy_setopt(c, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_ALL));
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, t->error);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
  if (timed) curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(target.timeout_ms));
  // Stalled uploads end; slow ones do not.
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
  // The policy decides; curl's own checks would refuse a self-signed
  // certificate, or a host name that is not the serial it names.
  t->policy.ca_file = target.ca_file;
  t->policy.check_certificate = target.check_certificate;
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
  curl_easy_setopt(c, CURLOPT_SSL_CTX_FUNCTION, InstallPolicy);
  curl_easy_setopt(c, CURLOPT_SSL_CTX_DATA, &t->policy);
}

pc::Status Result(const Transfer& t, CURLcode rc, const FtpsTarget& target,
                  const std::string& what) {
  if (rc == CURLE_OK) return pc::Status::OK();
  std::string where = " (" + target.host + ":" + std::to_string(target.port) + ")";
  if (t.policy.refused) {
    return pc::PermissionDeniedError(what + ": the SD card's FTPS server" + where +
                                     " was refused: " + t.policy.why);
  }
  std::string detail = t.error[0] != '\0' ? t.error : curl_easy_strerror(rc);
  switch (rc) {
    case CURLE_LOGIN_DENIED:
      return pc::PermissionDeniedError(what + ": the printer refused the access code" + where);
    case CURLE_REMOTE_FILE_NOT_FOUND:
      return pc::NotFoundError(what + ": not on the SD card");
    case CURLE_QUOTE_ERROR:
      return pc::FailedPreconditionError(what + ": the printer refused it (" + detail + ")");
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_COULDNT_RESOLVE_HOST:
      return pc::UnavailableError(what + ": the SD card cannot be reached" + where + ": " + detail);
    default:
      return pc::InternalError(what + ": " + detail);
  }
}

}  // namespace

std::optional<FtpEntry> ParseFtpListLine(const std::string& line_in, int64_t now) {
  std::string line = line_in;
  while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.pop_back();
  if (line.size() < 10 || (line[0] != '-' && line[0] != 'd')) return std::nullopt;
  // perms links owner group size month day time-or-year name…
  std::istringstream in(line);
  std::string perms, links, owner, group, size, month, day, when;
  if (!(in >> perms >> links >> owner >> group >> size >> month >> day >> when)) {
    return std::nullopt;
  }
  std::string name;
  std::getline(in, name);
  size_t first = name.find_first_not_of(' ');
  if (first == std::string::npos) return std::nullopt;
  name = name.substr(first);
  if (name == "." || name == ".." || name.find('/') != std::string::npos) return std::nullopt;
  FtpEntry e;
  e.name = name;
  e.is_dir = perms[0] == 'd';
  char* end = nullptr;
  e.size = std::strtoll(size.c_str(), &end, 10);
  if (end == size.c_str() || e.size < 0) return std::nullopt;
  int mon = -1;
  for (int i = 0; i < 12; ++i) {
    if (month == kMonths[i]) mon = i;
  }
  int mday = std::atoi(day.c_str());
  if (mon >= 0 && mday >= 1 && mday <= 31) {
    std::tm tm{};
    time_t now_t = static_cast<time_t>(now);
    std::tm today{};
    gmtime_r(&now_t, &today);
    tm.tm_mon = mon;
    tm.tm_mday = mday;
    int hh = 0, mm = 0, year = 0;
    if (std::sscanf(when.c_str(), "%d:%d", &hh, &mm) == 2) {
      // "Dec  7 14:02": within the last six months (ls's rule).
      tm.tm_year = today.tm_year;
      tm.tm_hour = hh;
      tm.tm_min = mm;
      if (timegm(&tm) > now + 86400) tm.tm_year -= 1;
    } else if (std::sscanf(when.c_str(), "%d", &year) == 1 && year > 1970) {
      tm.tm_year = year - 1900;
    } else {
      return e;
    }
    e.m_timestamp = static_cast<int64_t>(timegm(&tm));
  }
  return e;
}

pc::StatusOr<std::vector<FtpEntry>> FtpsClient::List(const std::string& dir) const {
  Transfer t;
  Setup(&t, target_, dir.empty() ? "" : dir + "/", true);
  std::string body;
  curl_easy_setopt(t.curl.get(), CURLOPT_WRITEFUNCTION, Collect);
  curl_easy_setopt(t.curl.get(), CURLOPT_WRITEDATA, &body);
  pc::Status s =
      Result(t, curl_easy_perform(t.curl.get()), target_, "Listing /" + dir + " on the SD card");
  if (!s.ok()) return s;
  std::vector<FtpEntry> out;
  int64_t now = static_cast<int64_t>(std::time(nullptr));
  std::istringstream lines(body);
  std::string line;
  while (std::getline(lines, line)) {
    if (std::optional<FtpEntry> e = ParseFtpListLine(line, now)) out.push_back(std::move(*e));
  }
  return out;
}

pc::Status FtpsClient::Quote(const std::string& command, const std::string& what) const {
  Transfer t;
  Setup(&t, target_, "", true);
  curl_slist* quote = curl_slist_append(nullptr, command.c_str());
  curl_easy_setopt(t.curl.get(), CURLOPT_QUOTE, quote);
  curl_easy_setopt(t.curl.get(), CURLOPT_NOBODY, 1L);
  CURLcode rc = curl_easy_perform(t.curl.get());
  curl_slist_free_all(quote);
  return Result(t, rc, target_, what);
}

pc::Status FtpsClient::DeleteFile(const std::string& path) const {
  return Quote("DELE /" + path, "Deleting /" + path);
}

pc::Status FtpsClient::MakeDir(const std::string& path) const {
  return Quote("MKD /" + path, "Creating the folder /" + path);
}

pc::Status FtpsClient::RemoveDir(const std::string& path) const {
  return Quote("RMD /" + path, "Removing the folder /" + path);
}

pc::Status FtpsClient::Upload(const std::string& path, const std::string& local_file) const {
  FILE* f = std::fopen(local_file.c_str(), "rb");
  if (f == nullptr) return pc::NotFoundError("cannot read " + local_file);
  std::fseek(f, 0, SEEK_END);
  long size = std::ftell(f);
  std::fseek(f, 0, SEEK_SET);
  Transfer t;
  Setup(&t, target_, path, false);
  curl_easy_setopt(t.curl.get(), CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(t.curl.get(), CURLOPT_READDATA, f);
  curl_easy_setopt(t.curl.get(), CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(size));
  curl_easy_setopt(t.curl.get(), CURLOPT_FTP_CREATE_MISSING_DIRS,
                   static_cast<long>(CURLFTP_CREATE_DIR));
  CURLcode rc = curl_easy_perform(t.curl.get());
  std::fclose(f);
  return Result(t, rc, target_, "Uploading /" + path + " to the SD card");
}

}  // namespace bridge
