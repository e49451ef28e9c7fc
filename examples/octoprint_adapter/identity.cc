// Copyright 2026 The libprusaconnect Authors.
#include "identity.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

namespace octoprint_adapter {

namespace pc = prusaconnect;

std::string ErrnoText(int error) {
  char buf[256];
  // GNU strerror_r: returns the message (in buf or a static string).
  return strerror_r(error, buf, sizeof buf);
}

namespace {

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  if (!in) return "";
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

bool ValidUuid(const std::string& u) {
  if (u.size() != 36) return false;
  bool nonzero = false;
  for (size_t i = 0; i < u.size(); ++i) {
    char c = u[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (std::isxdigit(static_cast<unsigned char>(c)) == 0) {
      return false;
    } else if (c != '0') {
      nonzero = true;
    }
  }
  return nonzero;
}

}  // namespace

Identity SerialFromFirmware(const pc::Json& data) {
  if (!data.is_object()) return {};
  for (const char* key : {"SN", "SERIAL", "SERIAL_NUMBER"}) {
    const pc::Json* v = data.find(key);
    if (v != nullptr && v->is_string() && Trim(v->as_string()).rfind("CZP", 0) == 0) {
      return {Trim(v->as_string()), "prusa-serial"};
    }
  }
  const pc::Json* uuid = data.find("UUID");
  if (uuid != nullptr && uuid->is_string() && ValidUuid(Trim(uuid->as_string()))) {
    std::string u = Trim(uuid->as_string());
    std::transform(u.begin(), u.end(), u.begin(), [](char c) {
      return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    });
    return {u, "m115-uuid"};
  }
  return {};
}

std::string SerialFromMac(const std::string& sys_class_net) {
  std::vector<std::string> names;
  if (DIR* d = opendir(sys_class_net.c_str())) {
    // readdir on a stream this function owns alone is safe.
    while (dirent* e = readdir(d)) {  // NOLINT(concurrency-mt-unsafe)
      std::string n = e->d_name;
      if (n != "." && n != ".." && n != "lo") names.push_back(n);
    }
    closedir(d);
  }
  std::sort(names.begin(), names.end());
  for (const std::string& n : names) {
    std::string address_file = sys_class_net;
    address_file.append("/").append(n).append("/address");
    std::string mac = Trim(ReadAll(address_file));
    std::string hex;
    for (char c : mac) {
      if (c != ':') hex += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    if (hex.size() == 12 && hex != "000000000000") return "OCTO-" + hex;
  }
  return "";
}

std::string RandomUuid() {
  unsigned char b[16] = {0};
  std::ifstream in("/dev/urandom", std::ios::binary);
  in.read(reinterpret_cast<char*>(b), sizeof b);
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);
  char out[37];
  std::snprintf(out, sizeof out,
                "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
                b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
                b[15]);
  return out;
}

pc::Status WriteFileAtomic(const std::string& path, const std::string& content, unsigned mode) {
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return pc::PermissionDeniedError("cannot write " + tmp + ": " + ErrnoText(errno));
  ::fchmod(fd, mode);
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      ::unlink(tmp.c_str());
      return pc::InternalError("cannot write " + tmp + ": " + ErrnoText(errno));
    }
    done += static_cast<size_t>(n);
  }
  ::fsync(fd);
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return pc::InternalError("cannot rename " + tmp + ": " + ErrnoText(errno));
  }
  return pc::Status();
}

pc::Status StateDir::Prepare() const {
  struct stat st {};
  if (stat(dir_.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode)) return pc::FailedPreconditionError(dir_ + " is not a directory");
    if (access(dir_.c_str(), W_OK) != 0) {
      return pc::PermissionDeniedError("state directory " + dir_ +
                                       " is not writable by this user (fix its owner, or pass "
                                       "--state-dir)");
    }
    return pc::Status();
  }
  if (mkdir(dir_.c_str(), 0700) != 0) {
    return pc::PermissionDeniedError("cannot create state directory " + dir_ + ": " +
                                     ErrnoText(errno) + " (create it, or pass --state-dir)");
  }
  return pc::Status();
}

std::optional<Identity> StateDir::LoadIdentity() const {
  std::istringstream in(ReadAll(dir_ + "/identity"));
  Identity id;
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("serial=", 0) == 0) id.serial = Trim(line.substr(7));
    if (line.rfind("source=", 0) == 0) id.source = Trim(line.substr(7));
  }
  if (id.serial.empty()) return std::nullopt;
  return id;
}

pc::Status StateDir::SaveIdentity(const Identity& id) const {
  return WriteFileAtomic(dir_ + "/identity", "serial=" + id.serial + "\nsource=" + id.source + "\n",
                         0600);
}

std::string StateDir::LoadToken() const { return Trim(ReadAll(dir_ + "/token")); }

pc::Status StateDir::SaveToken(const std::string& token) const {
  return WriteFileAtomic(dir_ + "/token", token + "\n", 0600);
}

std::optional<int64_t> StateDir::LoadJob(const std::string& path) const {
  std::istringstream in(ReadAll(dir_ + "/job"));
  int64_t id = 0;
  std::string stored;
  if (!(in >> id)) return std::nullopt;
  std::getline(in, stored);
  if (path.empty() || Trim(stored) != path || id <= 0) return std::nullopt;
  return id;
}

int64_t StateDir::LastJobId() const {
  std::istringstream in(ReadAll(dir_ + "/job"));
  int64_t id = 0;
  if (!(in >> id)) return 0;
  return id;
}

pc::Status StateDir::SaveJob(int64_t job_id, const std::string& path) const {
  return WriteFileAtomic(dir_ + "/job", std::to_string(job_id) + " " + path + "\n", 0600);
}

pc::Status StateDir::EndJob() const {
  int64_t last = LastJobId();
  if (last <= 0) return pc::Status();
  return WriteFileAtomic(dir_ + "/job", std::to_string(last) + "\n", 0600);
}

pc::Status StateDir::Reset() const {
  // Job ids must never repeat for the same identity, and a firmware UUID or
  // MAC identity comes back the same after a reset: keep the counter, drop
  // the job in progress.
  if (pc::Status s = EndJob(); !s.ok()) return s;
  for (const char* f : {"/identity", "/token"}) {
    std::string p = dir_ + f;
    if (::unlink(p.c_str()) != 0 && errno != ENOENT) {
      return pc::PermissionDeniedError("cannot remove " + p + ": " + ErrnoText(errno));
    }
  }
  return pc::Status();
}

}  // namespace octoprint_adapter
