// Copyright 2026 The libprusaconnect Authors.
//
// NativePrinter: the SWIG-facing facade of prusaconnect::Printer used by the
// pure-Python package `prusaconnect` (bindings/python/prusaconnect), which
// provides the reference SDK's exact surface on top of it.
//
// Signatures are SWIG-friendly: enums cross as their wire text ("READY"),
// optional ids as 0 (the SDK omits falsy ids anyway), JSON values as Python
// objects (typemaps in prusaconnect.i, converted by py_runtime.h), failures
// as Error (→ the Python exception of its status code).
//
// The Python object that owns a NativePrinter (the package's Printer) is
// referenced weakly: the library calls back into it by method name
// (_run_handler, _on_register, _on_stop, _on_condition), so Python-side
// reference cycles through handlers stay collectable by Python's GC.
#ifndef PRUSACONNECT_BINDINGS_PYTHON_PY_PRINTER_H_
#define PRUSACONNECT_BINDINGS_PYTHON_PY_PRINTER_H_

#include "py_runtime.h"  // Python.h first

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "prusaconnect/json.h"
#include "prusaconnect/printer.h"

namespace prusaconnect::python {

// PrinterOptions without the network (every Python printer uses
// Network::Default()).
struct NativeConfig {
  bool mmu_supported = true;
  bool background_handlers = false;
  bool verify_tls = true;
  std::string ca_file;
  int64_t event_buffer_size = 1000;
  int64_t request_timeout_ms = 10000;
  int64_t register_poll_interval_ms = 1000;
  int64_t backoff_min_ms = 100;
  int64_t backoff_max_ms = 60000;
  // TransferOptions (transfer.h); content_types keep the library's default.
  int64_t transfer_max_size = 0;
  int64_t transfer_rate_limit = 0;
  int64_t transfer_max_retries = 5;
  int64_t transfer_backoff_min_ms = 500;
  int64_t transfer_backoff_max_ms = 15000;
  int64_t transfer_connect_timeout_ms = 10000;
  int64_t transfer_stall_timeout_ms = 30000;
  std::string transfer_staging_dir;
};

class NativePrinter {
 public:
  // `owner` is the Python object to call back (held weakly). `type` is ""
  // (none) or a member name / dotted triple ("I3MK3S", "1.3.1"); "" for sn
  // or fingerprint means not set.
  NativePrinter(PyObject* owner, const std::string& type, const std::string& sn,
                const std::string& fingerprint, const NativeConfig& config);
  ~NativePrinter();
  NativePrinter(const NativePrinter&) = delete;
  NativePrinter& operator=(const NativePrinter&) = delete;

  // ---- identity ("" = not set) ----
  std::string type() const;  // dotted triple
  std::string sn() const;
  std::string fingerprint() const;
  void set_type(const std::string& type);  // RuntimeError when already set
  void set_sn(const std::string& sn);
  void set_fingerprint(const std::string& fingerprint);
  bool is_initialised();

  // ---- SEND_INFO ----
  void set_firmware(const std::string& firmware);
  std::string firmware() const;
  void set_software(const std::string& software);
  std::string software() const;
  // A dict with any of the ten network_info keys (None = not set).
  void set_network_info(const Json& info);
  Json network_info() const;
  void set_api_key(const std::string& api_key);
  void set_mbl(const Json& mbl);                        // None or a list of numbers
  void set_sheet_settings(const Json& sheet_settings);  // None or [{name, z_offset}]
  void set_active_sheet(const Json& index);             // None or an int
  void set_mmu(bool enabled, const std::string& firmware, const std::string& type);
  void set_info_extra(const Json& extra);
  Json get_info() const;
  // Command definitions (prusaconnect/commands.h) in Connect's JSON form:
  // a list of definitions; ValueError names what is wrong.
  void set_supported_commands(const Json& definitions);
  Json supported_commands() const;
  Json handled_commands() const;  // the names

  // ---- connection ----
  void set_connection(const std::string& server, const std::string& token);
  void connection_from_config(const std::string& path);
  static std::string connect_url(const std::string& host, bool tls, int port);
  std::string server() const;
  std::string token() const;
  // The code; RuntimeError as the SDK for refusals, ConnectionError when
  // Connect cannot be reached.
  std::string register_printer();
  std::string code() const;
  std::string registration_status() const;

  // ---- state, events, telemetry ----
  std::string state() const;
  bool ready() const;
  // `ready`: -1 = keep, 0 = false, 1 = true. Ids: 0 = none. `timestamp`:
  // 0 = now. `reason`: "" = none. `event_state`: "" = the printer's state,
  // None = no "state" key (the SDK's event_cb(..., state=None)), else a State.
  void set_state(const std::string& state, const std::string& source, int ready, double timestamp,
                 int64_t command_id, int64_t job_id, int64_t transfer_id, int64_t dialog_id,
                 const std::string& reason, const Json& data);
  void event_cb(const std::string& event, const std::string& source, double timestamp,
                int64_t command_id, int64_t job_id, int64_t transfer_id, int64_t dialog_id,
                const std::string& reason, const Json& event_state, const Json& data);
  void telemetry(const Json& fields, double timestamp);  // timestamp 0: now
  std::string last_command_state() const;                // an Event name
  Json job_id() const;                                   // None or int
  void set_job_id(const Json& job_id);

  // ---- commands ----
  // Routes `command` to the owner's _run_handler (true) or back to the
  // library (false: its built-in handler, or "Not Implemented").
  void route_handler(const std::string& command, bool to_python);
  void command();
  bool wait_for_command(int64_t timeout_ms);
  // None, or {"command_id", "command_name", "args", "kwargs", "force"}.
  Json current_command() const;
  // Ends a running command with `event` (the SDK's Command.finish/failed/
  // reject). `has_command_id` false = the current command. False when no
  // such command is running.
  bool end_command(const std::string& event, const std::string& source, const std::string& reason,
                   const std::string& event_state, int64_t job_id, int64_t transfer_id,
                   int64_t dialog_id, const Json& data, bool has_command_id, int64_t command_id);

  // ---- files (the printer's storages; files.h) ----
  // The SDK's Printer.attach / detach: MEDIUM_INSERTED / MEDIUM_EJECTED.
  void attach(const std::string& folder, const std::string& storage);
  void detach(const std::string& storage);
  Json storages();  // names, in attach order
  // None, or {"name", "type", "size", "m_timestamp"?, "read_only"?,
  // "children": [...]} with `depth` levels of children (-1: all).
  Json fs_get(const std::string& path, int depth);
  Json fs_to_dict_legacy();
  Json fs_file_info(const std::string& path);
  std::string fs_os_path(const std::string& path);
  bool fs_wait_until_path(const std::string& path, int64_t timeout_ms, bool exists);
  void fs_create_folder(const std::string& path);
  void fs_delete_file(const std::string& path);
  void fs_delete_folder(const std::string& path, bool force);
  Json fs_space(const std::string& storage);  // {"free_space"?, "total_space"?}
  void fs_process_pending();                  // the SDK's inotify_handler()
  // A storage kept by a Python provider (py_storage.cc): the owner's
  // _storage_call(name, method, args) runs its methods. `can_store`: it
  // accepts downloads (store_file).
  void attach_storage(const std::string& name, bool can_store);
  void refresh_storage(const std::string& name);
  // Asks the owner's _printed_file() (with the GIL, on the thread running
  // the file command) for the file being printed; false: none.
  void set_printed_file_cb(bool enabled);

  // ---- transfers (transfer.h) ----
  // Starts a download (`type` "FROM_WEB" or "FROM_CONNECT") and returns
  // transfer_info() of it. FileExistsError "Another transfer in progress",
  // ValueError for a bad URL, name, path or an unknown storage, RuntimeError for the
  // file being printed, a bigger-than-allowed size or a shut-down printer.
  Json start_download(const std::string& type, const std::string& path, const std::string& url,
                      bool to_print, bool to_select);
  // Stops the running transfer; `transfer_id` 0 = whichever runs.
  // FileNotFoundError("Wrong transfer_id") for another id.
  void stop_transfer(int64_t transfer_id);
  // Every field of TransferInfo: {"transfer_id" (None before the first),
  // "type", "in_progress", "path", "url", "os_path", "to_print",
  // "to_select", "start_cmd_id", "hash", "team_id", "size",
  // "transferred", "progress", "time_transferring", "time_remaining",
  // "outcome", "reason"} (None = unset).
  Json transfer_info() const;
  // Reports finished downloads to the owner's
  // _on_download_finished(info) on the callback thread; false stops it.
  void set_download_finished_cb(bool enabled);
  void set_transfer_rate_limit(int64_t bytes_per_second);

  // ---- cameras (camera.h; py_camera.cc) ----
  // Adds a camera. `config`: {"id", "name", "fingerprint", "token",
  // "trigger_scheme" (member name), "capabilities" (values), "resolutions"
  // ([[w, h], ...]), "resolution" ([w, h] or None), "rotation", "exposure",
  // "focus", "printer_uuid"}; missing keys keep CameraConfig's defaults.
  // `driver`: {"kind": "python"} — captures call the owner's
  // _camera_capture(camera_id) with the GIL on the camera's thread — or
  // {"kind": "http", "url", "username", "password", "timeout_ms",
  // "verify_tls", "max_bytes"}, {"kind": "command", "argv", "timeout_ms",
  // "max_bytes"}, {"kind": "file", "path"}, {"kind": "v4l2", "device",
  // "width", "height", "timeout_ms", "skip_frames"}.
  // ValueError for a bad config, FileExistsError for a known id.
  void camera_add(const Json& config, const Json& driver);
  // Waits for the camera's capture in progress (GIL released).
  // FileNotFoundError for an unknown id.
  void camera_remove(const std::string& id);
  Json camera_ids();
  // {"id", "name", "fingerprint", "trigger_scheme", "registered", "state",
  // "last_error", "snapshots_uploaded", "capture_failures",
  // "upload_failures", "oversize_skipped", "triggers_skipped",
  // "last_image_bytes", "last_upload_time"}.
  Json camera_status(const std::string& id);
  Json camera_statuses();
  // POST /p/camera: blocks for one request (GIL released); the token.
  std::string camera_register(const std::string& id);
  void camera_set_trigger_scheme(const std::string& id, const std::string& scheme);
  void camera_layer_changed();
  void camera_trigger(const std::string& id);  // "" = every camera
  // {"upload_policy" ("WHILE_PRINTING" | "ALWAYS"), "max_image_bytes",
  // "upload_timeout_ms", "backoff_min_ms", "backoff_max_ms", "jpeg_quality",
  // "busy_timeout_ms"}; set_options takes any subset.
  Json camera_options();
  void camera_set_options(const Json& options);
  // Reports new camera tokens to the owner's _on_camera_token(camera_id,
  // fingerprint, token) on the callback thread; false stops it.
  void camera_watch_tokens(bool enabled);
  // ---- running ----
  void start();
  void stop();
  // Prepares loop(): clears an earlier stop_loop().
  void loop_begin();
  // Waits until stop_loop() or `timeout_ms` (< 0: forever); true when
  // stop_loop() was called.
  bool loop_wait(int64_t timeout_ms);
  void stop_loop();
  bool flush(int64_t timeout_ms);

  // ---- observation ----
  Json stats() const;
  // Conditions by index: 0 INTERNET, 1 HTTP, 2 TOKEN, 3 API. States:
  // 0 UNKNOWN, 1 OK, 2 NOK.
  int cond_state(int node);
  std::string cond_reason(int node);
  bool cond_set_state(int node, int state);
  Json cond_info(int node);
  // Reports the node's changes to the owner's _on_condition(node, ok,
  // old_state) from the callback thread (installed once).
  void cond_watch(int node);
  int worst_condition();

 private:
  Condition* CondNode(int node);

  std::shared_ptr<PyRef> owner_;  // a weakref.ref to the owner
  Printer printer_;
  bool watched_[4] = {false, false, false, false};
  std::mutex loop_mu_;
  std::condition_variable loop_cv_;
  bool loop_stop_ = false;
};

// ---- module functions ----
// Forwards the library's log records to `forwarder(level, component,
// message)` on the callback thread; None removes it.
void install_log_sink(PyObject* forwarder);
void set_log_level(int level);
int log_level();
uint64_t dropped_log_records();
std::string fingerprint_from_serial(const std::string& sn);
std::string library_version();
std::string sdk_version();
// The wire names of one of the library's enums, in declaration order
// ("State", "Event", "Source", "Command", ...), for consistency tests.
Json enum_names(const std::string& kind);
// [[name, type, version, subversion], ...] of the SDK's printer types.
Json printer_types();
// Called at exit (atexit): no Python runs from library threads afterwards.
void shutdown();

}  // namespace prusaconnect::python

#endif  // PRUSACONNECT_BINDINGS_PYTHON_PY_PRINTER_H_
