// Copyright 2026 The libprusaconnect Authors.
//
// Session: what the layers below the facade need of one printer's session —
// the network engine drives its traffic (Next/Complete), the files,
// transfer and camera layers queue events, install their command handlers
// and make requests with the printer's headers. An interface: the facade's
// PrinterSession (facade/printer_session.h) implements it around the
// single-threaded protocol core (core.h) with its lock, waits and handler
// execution. Every method is safe from any thread.
#ifndef PRUSACONNECT_PROTOCOL_SESSION_H_
#define PRUSACONNECT_PROTOCOL_SESSION_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "protocol/core.h"
#include "protocol/core_options.h"
#include "protocol/http_types.h"
#include "prusaconnect/const.h"
#include "prusaconnect/json.h"
#include "prusaconnect/models.h"
#include "prusaconnect/status.h"

namespace prusaconnect::internal {

class Session {
 public:
  using Executor = std::function<void(std::function<void()>)>;
  using Kind = RequestKind;
  using Outgoing = internal::Outgoing;
  using TransferStatus = internal::TransferStatus;

  virtual ~Session() = default;

  // ---- driver side (the engine, or a test) ----
  // Where host code runs (handlers, callbacks): the engine's handler
  // threads. Default: inline in the calling thread.
  virtual void SetExecutor(Executor executor) = 0;
  // Called, without any lock held, whenever new work may be ready to send.
  virtual void SetWaker(std::function<void()> waker) = 0;
  // The next request at monotonic time `now_us` (see SessionCore::Next). At
  // most one request is outstanding at a time, which keeps events in order.
  virtual std::optional<Outgoing> Next(int64_t now_us, int64_t* wake_at_us) = 0;
  virtual void Complete(const Outgoing& out, const HttpResponse& response, int64_t now_us) = 0;
  virtual void Cancelled() = 0;

  // ---- what the library's features use ----
  virtual const CoreOptions& options() const = 0;
  virtual std::string server() const = 0;
  virtual std::string token() const = 0;
  virtual std::string fingerprint() const = 0;
  virtual State state() const = 0;
  // Queues an event (dropped without a token, as the SDK).
  virtual void event_cb(Event event, Source source, const EventFields& fields,
                        const Json& data) = 0;
  // A request to the printer API with the printer's headers, for features
  // that send on their own connection (cameras). FailedPrecondition without
  // a server.
  virtual StatusOr<HttpRequest> MakePrinterRequest(const char* method, const std::string& path) = 0;
  // A download's headers: the printer's (`to_connect`: the URL has the
  // Connect server's origin) or User-Agent only.
  virtual HeaderList HeadersForDownload(bool to_connect) = 0;
  // Installs a library-provided handler (files, transfers) used when the
  // host registered none for `command`; an empty one removes it.
  virtual void SetDefaultHandler(Command command, CommandHandler handler) = 0;
  // Waits up to `timeout_ms` until command `command_id` is no longer the
  // running one; true when it is not.
  virtual bool WaitCommandEnded(int64_t command_id, int64_t timeout_ms) = 0;
  // Asked (with the session's lock held: it must only take leaf locks) when
  // an event or telemetry is queued; nullopt while no download runs.
  virtual void SetTransferProbe(std::function<std::optional<TransferStatus>()> probe) = 0;
  // The legacy file tree of SEND_INFO (files layer): as Json, or written as
  // JSON text straight into the answer (a provider replaces the writer).
  virtual void set_files_provider(std::function<Json()> provider) = 0;
  virtual void set_files_writer(std::function<void(std::string*)> writer) = 0;
};

}  // namespace prusaconnect::internal

#endif  // PRUSACONNECT_PROTOCOL_SESSION_H_
