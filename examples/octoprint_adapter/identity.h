// Copyright 2026 The libprusaconnect Authors.
//
// The printer's identity and the adapter's persistent state, kept in the
// state directory:
//   identity   "serial=<sn>\nsource=<where it came from>\n" — chosen once,
//              never changed (until --reset);
//   token      the Connect token (mode 0600);
//   job        "<job id> <OctoPrint path>" of the print in progress, so a
//              restarted adapter keeps the job id; after --reset only
//              "<last job id>", so job ids never repeat for this state
//              directory (the identity may well be the same printer again).
// Every file is written atomically (temporary file, fsync, rename).
//
// The serial number, in this order: a Prusa serial the firmware reports
// (M115 key SN / SERIAL / SERIAL_NUMBER starting with "CZP"); else the UUID
// of Marlin's M115 report (not the all-zero one); else an id from the first
// network interface's MAC address; else a random UUID.
#ifndef PRUSACONNECT_EXAMPLES_OCTOPRINT_ADAPTER_IDENTITY_H_
#define PRUSACONNECT_EXAMPLES_OCTOPRINT_ADAPTER_IDENTITY_H_

#include <prusaconnect/json.h>
#include <prusaconnect/status.h>

#include <cstdint>
#include <optional>
#include <string>

namespace octoprint_adapter {

struct Identity {
  std::string serial;
  std::string source;  // "prusa-serial", "m115-uuid", "mac", "random"

  // True for an identity the printer itself reported (its serial number or
  // its M115 UUID), false for this machine's MAC address or a random one.
  bool from_printer() const { return source == "prusa-serial" || source == "m115-uuid"; }
};

// The serial a FirmwareData payload's `data` offers, with its source; an
// empty serial when it offers none.
Identity SerialFromFirmware(const prusaconnect::Json& m115_data);
// "OCTO-" + the MAC of the first interface (by name, loopback and all-zero
// skipped) under `sys_class_net` (default /sys/class/net); "" if none.
std::string SerialFromMac(const std::string& sys_class_net = "/sys/class/net");
// A random version-4 UUID.
std::string RandomUuid();

class StateDir {
 public:
  explicit StateDir(std::string dir) : dir_(std::move(dir)) {}
  // Creates the directory (0700) when missing.
  prusaconnect::Status Prepare() const;
  std::optional<Identity> LoadIdentity() const;
  prusaconnect::Status SaveIdentity(const Identity& id) const;
  std::string LoadToken() const;  // "" when none
  prusaconnect::Status SaveToken(const std::string& token) const;
  // Job id of the print of `path`, if one was stored for it.
  std::optional<int64_t> LoadJob(const std::string& path) const;
  prusaconnect::Status SaveJob(int64_t job_id, const std::string& path) const;
  // The job in progress ended: its id stays the last one handed out, but a
  // new print of the same file is a new job.
  prusaconnect::Status EndJob() const;
  // The last job id handed out (0 when none).
  int64_t LastJobId() const;
  // Forgets token, identity and the job in progress (--reset); keeps the
  // last job id, so the next job of the same printer gets a new one.
  prusaconnect::Status Reset() const;
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
};

// strerror(), thread-safe.
std::string ErrnoText(int error);

// Writes `content` to `path` atomically with permission `mode`.
prusaconnect::Status WriteFileAtomic(const std::string& path, const std::string& content,
                                     unsigned mode);

}  // namespace octoprint_adapter

#endif  // PRUSACONNECT_EXAMPLES_OCTOPRINT_ADAPTER_IDENTITY_H_
