// Copyright 2026 The libprusaconnect Authors.
//
// Transfers: downloads from Connect and from URLs into a printer's storage —
// the C++ counterpart of the reference SDK's `download.py` (Transfer and
// DownloadMgr), without its quirks (sdk-spec.md §7, Q17–Q27).
//
// A printer runs at most one transfer at a time. Connect starts one with
// START_CONNECT_DOWNLOAD or START_URL_DOWNLOAD (built-in handlers), stops it
// with STOP_TRANSFER and asks about it with SEND_TRANSFER_INFO; a host can
// start one itself with Printer::start_download().
//
// What a transfer guarantees:
//   * the destination is validated (name, length, storage, inside the
//     storage's folder, not the file being printed, free space against the
//     announced size, TransferOptions::max_size) before the transfer is
//     marked in progress: a refused transfer leaves nothing behind;
//   * bytes go to a hidden temporary file beside the destination
//     (".<name>.part", never listed nor reported), which is renamed into
//     place only when complete and of the announced size; a stopped or
//     failed transfer removes it;
//   * the printer's token and headers go only to the configured Connect
//     origin (same scheme, host and port); other URLs, and any redirect to
//     another origin, get none of them;
//   * a connection lost midway resumes with an HTTP Range request from the
//     last byte written (restarting from zero when the server ignores
//     ranges), with bounded retries and backoff;
//   * it runs on its own thread and connection: telemetry, events and
//     commands never wait for it.
//
// Downloads into a host-provided storage (StorageProvider) are received into
// TransferOptions::staging_dir and handed to StorageProvider::StoreFile()
// when complete (e.g. the OctoPrint adapter uploads them to OctoPrint).
#ifndef PRUSACONNECT_TRANSFER_H_
#define PRUSACONNECT_TRANSFER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "prusaconnect/const.h"
#include "prusaconnect/export.h"
#include "prusaconnect/json.h"

namespace prusaconnect {

struct PRUSACONNECT_API TransferOptions {
  // Largest download accepted, in bytes (announced or received); 0 = none.
  int64_t max_size = 0;
  // Throughput limit in bytes/s, e.g. for a single-core host while it
  // prints; 0 = unlimited. May be changed on a running printer with
  // Printer::set_transfer_rate_limit().
  int64_t max_bytes_per_second = 0;
  // Attempts after a lost connection before TRANSFER_ABORTED, waiting
  // between them from retry_backoff_min_ms doubling up to
  // retry_backoff_max_ms.
  int max_retries = 5;
  int64_t retry_backoff_min_ms = 500;
  int64_t retry_backoff_max_ms = 15000;
  // Connecting (and receiving the response headers) must not take longer.
  int64_t connect_timeout_ms = 10000;
  // An attempt with no byte received for this long counts as lost.
  int64_t stall_timeout_ms = 30000;
  // Content-Type values accepted (compared case-insensitively, parameters
  // such as "; charset=utf-8" ignored); a response without one is accepted.
  std::vector<std::string> content_types = {"text/plain", "text/x.gcode", "application/binary",
                                            "application/octet-stream"};
  // Where downloads into host-provided storages are received; "" means
  // $TMPDIR, else /tmp.
  std::string staging_dir;
};

// A transfer as the host sees it (Printer::transfer_info(), callbacks).
struct PRUSACONNECT_API TransferInfo {
  uint32_t transfer_id = 0;
  // NO_TRANSFER when none has run yet.
  TransferType type = TransferType::NO_TRANSFER;
  bool in_progress = false;
  std::string path;  // virtual destination, "/usb/box.gcode"
  std::string url;
  // The file written: the destination, or the staging file of a download
  // into a host-provided storage.
  std::string os_path;
  bool to_print = false;
  bool to_select = false;
  std::optional<int64_t> start_cmd_id;
  std::string hash;  // START_CONNECT_DOWNLOAD's
  std::string team_id;
  std::optional<int64_t> size;  // announced size, when known
  int64_t transferred = 0;
  // Whole seconds since the transfer started (monotonic clock), and the
  // estimate of the seconds left (unset while unknown, 0 once stopped).
  int64_t time_transferring = 0;
  std::optional<int64_t> time_remaining;
  // How it ended (only when !in_progress and type was a download):
  // TRANSFER_FINISHED, TRANSFER_STOPPED or TRANSFER_ABORTED, and the reason
  // of an abort.
  std::optional<Event> outcome;
  std::string reason;

  // transferred/size*100, 0.0 when the size is unknown.
  double progress() const;
  // TRANSFER_INFO's data (sdk-spec.md §7.3): {"type":"NO_TRANSFER"} when idle.
  // transfer_id included; unset values left out.
  Json ToJson() const;
};

}  // namespace prusaconnect

#endif  // PRUSACONNECT_TRANSFER_H_
