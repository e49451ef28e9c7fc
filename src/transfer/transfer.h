// Copyright 2026 The libprusaconnect Authors.
//
// TransferManager: one printer's downloads (include/prusaconnect/transfer.h
// says what they guarantee; sdk-spec.md §5.7–5.10 and §7 what the SDK does).
//
// A transfer is validated completely in Start() — destination, URL — before
// it is marked in progress; then it runs on its own thread with its own
// connection (an HttpClient from the factory it was given, transport/
// http_client.h, libcurl by default), writing to a hidden ".<name>.part" beside
// the destination (or a staging file for a host-provided storage), resuming
// with Range requests after a lost connection, and reports through the
// printer's session: TRANSFER_INFO when the response arrives, then one of
// TRANSFER_FINISHED / TRANSFER_STOPPED / TRANSFER_ABORTED (source CONNECT,
// transfer_id top-level, data {path, start_cmd_id}).
//
// Thread safety: every method may be called from any thread. The manager's
// lock is a leaf: the session asks Probe() with its own lock held, and the
// manager never calls the session with its lock held.
#ifndef PRUSACONNECT_TRANSFER_TRANSFER_H_
#define PRUSACONNECT_TRANSFER_TRANSFER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "protocol/session.h"
#include "prusaconnect/files.h"
#include "prusaconnect/status.h"
#include "prusaconnect/transfer.h"
#include "transport/http_client.h"
#include "util/clock.h"
#include "util/cond_var.h"

namespace prusaconnect::internal {

struct DownloadTarget;

class TransferManager {
 public:
  struct StartRequest {
    TransferType type = TransferType::FROM_WEB;
    std::string path;
    std::string url;
    bool to_print = false;
    bool to_select = false;
    std::optional<int64_t> start_cmd_id;
    std::string hash;
    std::string team_id;
  };

  // `session` and `fs` must outlive the manager's transfers: Shutdown()
  // (called by the destructor) stops and joins them. Each download gets a
  // client from `http` (default: libcurl); `clock` (default: the real one,
  // must outlive the manager) times progress and the rate limit.
  TransferManager(std::shared_ptr<Session> session, std::shared_ptr<Filesystem> fs,
                  TransferOptions options, HttpClientFactory http = nullptr,
                  const Clock* clock = nullptr);
  ~TransferManager();
  TransferManager(const TransferManager&) = delete;
  TransferManager& operator=(const TransferManager&) = delete;

  // Validates and starts a download. Errors (nothing is written, the
  // transfer is not marked in progress): AlreadyExists "Another transfer in
  // progress", InvalidArgument, NotFound, PermissionDenied,
  // FailedPrecondition, ResourceExhausted — with messages for people.
  StatusOr<TransferInfo> Start(const StartRequest& request);
  // Stops the running transfer; NotFound "Wrong transfer_id" when
  // `transfer_id` is given and differs from the current one.
  Status Stop(std::optional<uint32_t> transfer_id);
  // The running transfer, or the last one.
  TransferInfo Info() const;
  void SetFinishedCb(std::function<void(const TransferInfo&)> cb);
  void SetRateLimit(int64_t bytes_per_second);
  // Waits until no transfer runs (true) or the timeout passes (false).
  bool WaitIdle(int64_t timeout_ms) const;
  // Aborts a running transfer ("Transfer was aborted") and joins its thread.
  void Shutdown();

  // For the session: the telemetry keys of a running download.
  std::optional<Session::TransferStatus> Probe() const;

 private:
  struct Job;
  void Run(const std::shared_ptr<Job>& job);
  TransferInfo InfoLocked() const;
  void Emit(Event event, Source source, const Json& data, const std::optional<std::string>& reason);
  // Sleeps up to `ms` unless stopped or shut down; false when interrupted.
  bool SleepFor(int64_t ms);

  const std::shared_ptr<Session> session_;
  const std::shared_ptr<Filesystem> fs_;
  const TransferOptions options_;
  const HttpClientFactory http_;
  const Clock* const clock_;
  std::atomic<int64_t> rate_limit_;

  mutable std::mutex mu_;
  mutable internal::CondVar cv_;
  TransferInfo info_;          // guarded by mu_ (transferred: see written_)
  int64_t start_mono_us_ = 0;  // Start()
  int64_t begin_mono_us_ = 0;  // the first response arrived (0: not yet)
  bool stop_ = false;
  bool shutdown_ = false;
  std::function<void(const TransferInfo&)> finished_cb_;
  std::atomic<int64_t> written_{0};
  std::thread worker_;  // guarded by mu_
};

// Installs START_URL_DOWNLOAD, START_CONNECT_DOWNLOAD, STOP_TRANSFER and
// SEND_TRANSFER_INFO beneath the host's handlers, and the session's probe.
// A null manager removes them.
void InstallTransferCommands(Session* session, const std::shared_ptr<TransferManager>& manager);

}  // namespace prusaconnect::internal

#endif  // PRUSACONNECT_TRANSFER_TRANSFER_H_
