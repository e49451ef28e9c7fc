// Copyright 2026 The libprusaconnect Authors.
//
// libFuzzer target: the INI reader (src/util/ini.cc) — ParseIni and the
// typed getters on every section, then ReadConnectSettings on the same
// bytes as a file (a memfd), the path Printer::connection_from_config takes.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "util/ini.h"

namespace {

void WriteAll(int fd, const uint8_t* data, size_t size) {
  while (size > 0) {
    ssize_t n = write(fd, data, size);
    if (n <= 0) return;
    data += n;
    size -= static_cast<size_t>(n);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using prusaconnect::internal::ParseIni;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  prusaconnect::StatusOr<prusaconnect::internal::IniFile> ini = ParseIni(text);
  if (ini.ok()) {
    for (const std::string& section : ini->Sections()) {
      (void)ini->HasSection(section);
      for (const char* key : {"hostname", "tls", "port", "token", "a"}) {
        (void)ini->Get(section, key);
        (void)ini->GetBool(section, key, false);
        (void)ini->GetInt(section, key, 0);
      }
    }
    (void)ini->Get("DEFAULT", "hostname");
  }
  int fd = memfd_create("fuzz_ini", MFD_CLOEXEC);
  if (fd < 0) return 0;
  WriteAll(fd, data, size);
  std::string path = "/proc/self/fd/" + std::to_string(fd);
  prusaconnect::StatusOr<prusaconnect::internal::ConnectSettings> settings =
      prusaconnect::internal::ReadConnectSettings(path);
  if (settings.ok()) {
    (void)prusaconnect::internal::ConnectUrl(settings->hostname, settings->tls, settings->port);
  }
  close(fd);
  return 0;
}
