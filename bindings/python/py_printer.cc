// Copyright 2026 The libprusaconnect Authors.
#include "py_printer.h"

#include <chrono>
#include <optional>
#include <utility>
#include <vector>

#include "prusaconnect/conditions.h"
#include "prusaconnect/const.h"
#include "prusaconnect/files.h"
#include "prusaconnect/log.h"
#include "prusaconnect/models.h"
#include "prusaconnect/transfer.h"
#include "prusaconnect/util.h"

namespace prusaconnect::python {
namespace {

std::optional<PrinterType> ParseType(const std::string& text) {
  if (text.empty()) return std::nullopt;
  std::optional<PrinterType> type = PrinterType::FromString(text);
  if (!type) throw Error(StatusCode::kInvalidArgument, "unknown printer type: '" + text + "'");
  return type;
}

PrinterOptions MakeOptions(const NativeConfig& c) {
  PrinterOptions o;
  o.mmu_supported = c.mmu_supported;
  o.background_handlers = c.background_handlers;
  o.verify_tls = c.verify_tls;
  o.ca_file = c.ca_file;
  o.event_buffer_size = c.event_buffer_size > 0 ? static_cast<size_t>(c.event_buffer_size) : 1;
  o.request_timeout_ms = c.request_timeout_ms;
  o.register_poll_interval_ms = c.register_poll_interval_ms;
  o.backoff_min_ms = c.backoff_min_ms;
  o.backoff_max_ms = c.backoff_max_ms;
  o.transfer.max_size = c.transfer_max_size;
  o.transfer.max_bytes_per_second = c.transfer_rate_limit;
  o.transfer.max_retries = static_cast<int>(c.transfer_max_retries);
  o.transfer.retry_backoff_min_ms = c.transfer_backoff_min_ms;
  o.transfer.retry_backoff_max_ms = c.transfer_backoff_max_ms;
  o.transfer.connect_timeout_ms = c.transfer_connect_timeout_ms;
  o.transfer.stall_timeout_ms = c.transfer_stall_timeout_ms;
  o.transfer.staging_dir = c.transfer_staging_dir;
  return o;
}

// Turns what the owner's _run_handler returned into the command's outcome:
// a str is the repr() of the exception the handler raised; a tuple is
// (event, source, reason, state, job_id, transfer_id, dialog_id, data).
StatusOr<CommandResult> ResultOf(PyObject* result) {
  if (PyUnicode_Check(result)) {
    std::string repr;
    Py_ssize_t size = 0;
    const char* text = PyUnicode_AsUTF8AndSize(result, &size);
    if (text == nullptr) return Status(StatusCode::kUnknown, CurrentErrorRepr());
    repr.assign(text, static_cast<size_t>(size));
    return Status(StatusCode::kUnknown, repr);
  }
  const char* event = nullptr;
  const char* source = nullptr;
  const char* reason = nullptr;
  const char* state = nullptr;
  long long job_id = 0;       // NOLINT(runtime/int)
  long long transfer_id = 0;  // NOLINT(runtime/int)
  long long dialog_id = 0;    // NOLINT(runtime/int)
  PyObject* data = nullptr;
  if (!PyTuple_Check(result) ||
      !PyArg_ParseTuple(result, "ssssLLLO", &event, &source, &reason, &state, &job_id, &transfer_id,
                        &dialog_id, &data)) {
    if (!PyErr_Occurred()) PyErr_SetString(PyExc_TypeError, "bad handler result");
    return Status(StatusCode::kUnknown, CurrentErrorRepr());
  }
  CommandResult r;
  auto bad = [](const char* what, const char* value) {
    return Status(StatusCode::kUnknown,
                  std::string("ValueError(\"unknown ") + what + ": '" + value + "'\")");
  };
  if (!Parse(source, &r.source)) return bad("source", source);
  if (*event != '\0') {
    Event e;
    if (!Parse(event, &e)) return bad("event", event);
    r.event = e;
  }
  if (*reason != '\0') r.reason = reason;
  if (*state != '\0') {
    State s;
    if (!Parse(state, &s)) return bad("state", state);
    r.state = s;
  }
  if (job_id != 0) r.job_id = job_id;
  if (transfer_id != 0) r.transfer_id = transfer_id;
  if (dialog_id != 0) r.dialog_id = dialog_id;
  if (!ToJson(data, &r.data)) return Status(StatusCode::kUnknown, CurrentErrorRepr());
  if (!r.data.is_object()) r.data = Json::MakeObject();
  return r;
}

// Runs the owner's _run_handler for `req` on this thread (the one that
// called command(), or a library handler thread).
StatusOr<CommandResult> RunPythonHandler(const std::shared_ptr<PyRef>& weak,
                                         const CommandRequest& req) {
  PythonCall call;
  if (!call.ok()) {
    return Status(StatusCode::kUnavailable, "RuntimeError('the interpreter is shutting down')");
  }
  PyObject* self = OwnerOf(weak);
  if (self == nullptr) {
    return Status(StatusCode::kUnavailable, "RuntimeError('the Printer object no longer exists')");
  }
  PyObject* result = nullptr;
  PyObject* args = PyTuple_New(5);
  if (args != nullptr) {
    PyTuple_SET_ITEM(args, 0, PyLong_FromLongLong(req.command_id));
    PyTuple_SET_ITEM(args, 1, PyText(req.command_name));
    PyTuple_SET_ITEM(args, 2, FromJson(req.args));
    PyTuple_SET_ITEM(args, 3, FromJson(req.kwargs));
    PyTuple_SET_ITEM(args, 4, PyBool_FromLong(req.force ? 1 : 0));
    bool built = true;
    for (Py_ssize_t i = 0; i < 5; ++i) built = built && PyTuple_GET_ITEM(args, i) != nullptr;
    if (built) {
      PyObject* fn = PyObject_GetAttrString(self, "_run_handler");
      if (fn != nullptr) {
        result = PyObject_Call(fn, args, nullptr);
        Py_DECREF(fn);
      }
    }
    Py_DECREF(args);
  }
  ReleaseOwnerLater(self);
  if (result == nullptr) {
    // Only a BaseException that is not an Exception (KeyboardInterrupt,
    // SystemExit...) gets here: _run_handler catches the others. The
    // command fails; the exception is re-raised by the command() call that
    // ran the handler, when there is one.
    std::string repr = ReprAndStashCurrentError();
    if (repr.empty()) repr = "SystemError('handler failed without an exception')";
    return Status(StatusCode::kUnknown, repr);
  }
  StatusOr<CommandResult> outcome = ResultOf(result);
  Py_DECREF(result);
  return outcome;
}

int CondStateToInt(CondState s) {
  switch (s) {
    case CondState::kOk:
      return 1;
    case CondState::kNok:
      return 2;
    case CondState::kUnknown:
      break;
  }
  return 0;
}

EventFields MakeFields(double timestamp, int64_t command_id, int64_t job_id, int64_t transfer_id,
                       int64_t dialog_id, const std::string& reason, const std::string& state) {
  EventFields f;
  if (timestamp != 0) f.timestamp = timestamp;
  if (command_id != 0) f.command_id = command_id;
  if (job_id != 0) f.job_id = job_id;
  if (transfer_id != 0) f.transfer_id = transfer_id;
  if (dialog_id != 0) f.dialog_id = dialog_id;
  if (!reason.empty()) f.reason = reason;
  if (!state.empty()) f.state = ParseOrThrow<State>(state, "state");
  return f;
}

std::string TextOf(const Json* v) {
  if (v == nullptr || v->is_null()) return "";
  if (v->is_string()) return v->as_string();
  return v->Dump();
}

const char* const kNetworkInfoKeys[] = {"lan_mac",   "lan_ipv4",  "lan_ipv6",  "wifi_mac",
                                        "wifi_ipv4", "wifi_ipv6", "wifi_ssid", "hostname",
                                        "username",  "digest"};

std::string* NetworkInfoField(NetworkInfo* info, int i) {
  std::string* fields[] = {&info->lan_mac,   &info->lan_ipv4,  &info->lan_ipv6,  &info->wifi_mac,
                           &info->wifi_ipv4, &info->wifi_ipv6, &info->wifi_ssid, &info->hostname,
                           &info->username,  &info->digest};
  return fields[i];
}

Json NodeToJson(const Node& n) {
  Json out = Json::MakeObject({{"name", n.name}, {"type", ToString(n.type)}, {"size", n.size}});
  if (n.m_timestamp) out.set("m_timestamp", *n.m_timestamp);
  if (n.read_only) out.set("read_only", *n.read_only);
  if (n.is_dir) {
    Json children = Json::MakeArray();
    for (const Node& c : n.children) children.push_back(NodeToJson(c));
    out.set("children", std::move(children));
  }
  return out;
}

Json TransferToJson(const TransferInfo& t) {
  auto opt = [](const std::optional<int64_t>& v) { return v ? Json(*v) : Json(); };
  Json out = Json::MakeObject();
  out.set("transfer_id", t.transfer_id != 0 ? Json(static_cast<int64_t>(t.transfer_id)) : Json());
  out.set("type", ToString(t.type));
  out.set("in_progress", t.in_progress);
  out.set("path", t.path);
  out.set("url", t.url);
  out.set("os_path", t.os_path);
  out.set("to_print", t.to_print);
  out.set("to_select", t.to_select);
  out.set("start_cmd_id", opt(t.start_cmd_id));
  out.set("hash", t.hash);
  out.set("team_id", t.team_id);
  out.set("size", opt(t.size));
  out.set("transferred", t.transferred);
  out.set("progress", t.progress());
  out.set("time_transferring", t.time_transferring);
  out.set("time_remaining", opt(t.time_remaining));
  out.set("outcome", t.outcome ? Json(ToString(*t.outcome)) : Json());
  out.set("reason", t.reason);
  return out;
}

template <typename E>
Json NamesOf() {
  Json out = Json::MakeArray();
  for (E v : AllValues<E>()) out.push_back(ToString(v));
  return out;
}

}  // namespace

// ---------------------------------------------------------------- NativePrinter

NativePrinter::NativePrinter(PyObject* owner, const std::string& type, const std::string& sn,
                             const std::string& fingerprint, const NativeConfig& config)
    : owner_(WeakRefTo(owner)), printer_(ParseType(type), sn, fingerprint, MakeOptions(config)) {
  std::shared_ptr<PyRef> weak = owner_;
  printer_.set_register_handler([weak](const std::string& token) {
    CallOwnerLater(weak, "_on_register", [token] { return Py_BuildValue("(N)", PyText(token)); });
  });
  printer_.set_stop_cb([weak] { CallOwnerLater(weak, "_on_stop", [] { return PyTuple_New(0); }); });
}

NativePrinter::~NativePrinter() = default;

std::string NativePrinter::type() const {
  std::optional<PrinterType> t = printer_.type();
  return t ? t->ToString() : "";
}
std::string NativePrinter::sn() const { return printer_.sn(); }
std::string NativePrinter::fingerprint() const { return printer_.fingerprint(); }

void NativePrinter::set_type(const std::string& type) {
  std::optional<PrinterType> t = ParseType(type);
  if (!t) throw Error(StatusCode::kInvalidArgument, "a printer type is required");
  ThrowIfError(printer_.set_type(*t));
}
void NativePrinter::set_sn(const std::string& sn) { ThrowIfError(printer_.set_sn(sn)); }
void NativePrinter::set_fingerprint(const std::string& fingerprint) {
  ThrowIfError(printer_.set_fingerprint(fingerprint));
}
bool NativePrinter::is_initialised() { return printer_.is_initialised(); }

void NativePrinter::set_firmware(const std::string& v) { printer_.set_firmware(v); }
std::string NativePrinter::firmware() const { return printer_.firmware(); }
void NativePrinter::set_software(const std::string& v) { printer_.set_software(v); }
std::string NativePrinter::software() const { return printer_.software(); }

void NativePrinter::set_network_info(const Json& info) {
  NetworkInfo n;
  for (int i = 0; i < 10; ++i) *NetworkInfoField(&n, i) = TextOf(info.find(kNetworkInfoKeys[i]));
  printer_.set_network_info(n);
}

Json NativePrinter::network_info() const {
  NetworkInfo n = printer_.network_info();
  Json out = Json::MakeObject();
  for (int i = 0; i < 10; ++i) {
    const std::string& v = *NetworkInfoField(&n, i);
    out.set(kNetworkInfoKeys[i], v.empty() ? Json() : Json(v));
  }
  return out;
}

void NativePrinter::set_api_key(const std::string& v) { printer_.set_api_key(v); }

void NativePrinter::set_mbl(const Json& mbl) {
  if (mbl.is_null()) {
    printer_.clear_mbl();
    return;
  }
  std::vector<double> values;
  if (mbl.is_array()) {
    for (const Json& v : mbl.as_array()) {
      if (!v.is_number()) throw Error(StatusCode::kInvalidArgument, "mbl must hold numbers");
      values.push_back(v.as_double());
    }
  } else if (!mbl.is_null()) {
    throw Error(StatusCode::kInvalidArgument, "mbl must be a list of numbers or None");
  }
  printer_.set_mbl(values);
}

void NativePrinter::set_sheet_settings(const Json& sheets) {
  if (sheets.is_null()) {
    printer_.clear_sheet_settings();
    return;
  }
  std::vector<SheetSettings> values;
  if (sheets.is_array()) {
    for (const Json& v : sheets.as_array()) {
      const Json* name = v.find("name");
      const Json* z = v.find("z_offset");
      if (name == nullptr || !name->is_string() || (z != nullptr && !z->is_number())) {
        throw Error(StatusCode::kInvalidArgument,
                    "sheet_settings must be a list of {'name': str, 'z_offset': float}");
      }
      values.push_back(SheetSettings{name->as_string(), z != nullptr ? z->as_double() : 0.0});
    }
  } else if (!sheets.is_null()) {
    throw Error(StatusCode::kInvalidArgument, "sheet_settings must be a list or None");
  }
  printer_.set_sheet_settings(values);
}

void NativePrinter::set_active_sheet(const Json& index) {
  if (index.is_int()) {
    printer_.set_active_sheet(static_cast<int>(index.as_int()));
  } else {
    printer_.set_active_sheet(std::nullopt);
  }
}

void NativePrinter::set_mmu(bool enabled, const std::string& firmware, const std::string& type) {
  std::optional<MMUType> t;
  if (!type.empty()) t = ParseOrThrow<MMUType>(type, "MMU type");
  printer_.set_mmu(enabled, firmware, t);
}

void NativePrinter::set_info_extra(const Json& extra) { printer_.set_info_extra(extra); }
Json NativePrinter::get_info() const { return printer_.get_info(); }

void NativePrinter::set_supported_commands(const Json& definitions) {
  StatusOr<std::vector<CommandDefinition>> parsed = ParseCommandDefinitions(definitions);
  ThrowIfError(parsed.status());
  printer_.set_supported_commands(std::move(*parsed));
}

Json NativePrinter::supported_commands() const { return ToJson(printer_.supported_commands()); }

Json NativePrinter::handled_commands() const {
  Json names = Json::MakeArray();
  for (Command c : printer_.handled_commands()) names.push_back(ToString(c));
  return names;
}

void NativePrinter::set_connection(const std::string& server, const std::string& token) {
  printer_.set_connection(server, token);
}

void NativePrinter::connection_from_config(const std::string& path) {
  ThrowIfError(printer_.connection_from_config(path));
}

std::string NativePrinter::connect_url(const std::string& host, bool tls, int port) {
  return Printer::connect_url(host, tls, port);
}

std::string NativePrinter::server() const { return printer_.server(); }
std::string NativePrinter::token() const { return printer_.token(); }

std::string NativePrinter::register_printer() {
  StatusOr<std::string> code = printer_.register_printer();
  if (code.ok()) return *code;
  const Status& s = code.status();
  // The SDK raises requests' ConnectionError when Connect cannot be reached
  // and RuntimeError(<answer text>) for every refusal.
  if (s.code() == StatusCode::kUnavailable && s.message().rfind("cannot reach", 0) == 0) {
    throw Error(s);
  }
  throw Error(StatusCode::kFailedPrecondition, s.message());
}

std::string NativePrinter::code() const { return printer_.code(); }
std::string NativePrinter::registration_status() const {
  return ToString(printer_.registration_status());
}

std::string NativePrinter::state() const { return ToString(printer_.state()); }
bool NativePrinter::ready() const { return printer_.ready(); }

void NativePrinter::set_state(const std::string& state, const std::string& source, int ready,
                              double timestamp, int64_t command_id, int64_t job_id,
                              int64_t transfer_id, int64_t dialog_id, const std::string& reason,
                              const Json& data) {
  State st = ParseOrThrow<State>(state, "state");
  Source src = ParseOrThrow<Source>(source, "source");
  std::optional<bool> r;
  if (ready >= 0) r = ready != 0;
  printer_.set_state(st, src, r,
                     MakeFields(timestamp, command_id, job_id, transfer_id, dialog_id, reason, ""),
                     data);
}

void NativePrinter::event_cb(const std::string& event, const std::string& source, double timestamp,
                             int64_t command_id, int64_t job_id, int64_t transfer_id,
                             int64_t dialog_id, const std::string& reason, const Json& event_state,
                             const Json& data) {
  Event ev = ParseOrThrow<Event>(event, "event");
  Source src = ParseOrThrow<Source>(source, "source");
  EventFields fields =
      MakeFields(timestamp, command_id, job_id, transfer_id, dialog_id, reason,
                 event_state.is_string() ? event_state.as_string() : std::string());
  fields.omit_state = event_state.is_null();
  printer_.event_cb(ev, src, fields, data);
}

void NativePrinter::telemetry(const Json& fields, double timestamp) {
  printer_.telemetry(fields, timestamp > 0 ? std::optional<double>(timestamp) : std::nullopt);
}

std::string NativePrinter::last_command_state() const {
  return ToString(printer_.last_command_state());
}

Json NativePrinter::job_id() const {
  std::optional<int64_t> id = printer_.job_id();
  return id ? Json(static_cast<long long>(*id)) : Json();  // NOLINT(runtime/int)
}

void NativePrinter::set_job_id(const Json& job_id) {
  if (job_id.is_int()) {
    printer_.set_job_id(job_id.as_int());
  } else {
    printer_.set_job_id(std::nullopt);
  }
}

void NativePrinter::route_handler(const std::string& command, bool to_python) {
  Command c = ParseOrThrow<Command>(command, "command");
  if (!to_python) {
    printer_.set_handler(c, nullptr);
    return;
  }
  std::shared_ptr<PyRef> weak = owner_;
  printer_.set_handler(c, [weak](const CommandRequest& req) -> StatusOr<CommandResult> {
    return RunPythonHandler(weak, req);
  });
}

void NativePrinter::command() {
  StashScope scope;  // a KeyboardInterrupt in a handler propagates out of command()
  printer_.command();
}

bool NativePrinter::wait_for_command(int64_t timeout_ms) {
  return printer_.wait_for_command(timeout_ms);
}

Json NativePrinter::current_command() const {
  std::optional<CommandRequest> c = printer_.current_command();
  if (!c) return Json();
  return Json::MakeObject({{"command_id", static_cast<long long>(c->command_id)},  // NOLINT
                           {"command_name", c->command_name},
                           {"args", c->args},
                           {"kwargs", c->kwargs},
                           {"force", c->force}});
}

bool NativePrinter::end_command(const std::string& event, const std::string& source,
                                const std::string& reason, const std::string& event_state,
                                int64_t job_id, int64_t transfer_id, int64_t dialog_id,
                                const Json& data, bool has_command_id, int64_t command_id) {
  CommandResult r;
  r.source = ParseOrThrow<Source>(source, "source");
  r.event = ParseOrThrow<Event>(event, "event");
  if (!reason.empty()) r.reason = reason;
  if (!event_state.empty()) r.state = ParseOrThrow<State>(event_state, "state");
  if (job_id != 0) r.job_id = job_id;
  if (transfer_id != 0) r.transfer_id = transfer_id;
  if (dialog_id != 0) r.dialog_id = dialog_id;
  r.data = data.is_object() ? data : Json::MakeObject();
  std::optional<int64_t> id;
  if (has_command_id) id = command_id;
  return printer_.finish_command(r, id).ok();
}

void NativePrinter::attach(const std::string& folder, const std::string& storage) {
  ThrowIfError(printer_.attach(folder, storage));
}
void NativePrinter::detach(const std::string& storage) { ThrowIfError(printer_.detach(storage)); }

Json NativePrinter::storages() {
  Json out = Json::MakeArray();
  for (const std::string& s : printer_.fs().storages()) out.push_back(s);
  return out;
}

Json NativePrinter::fs_get(const std::string& path, int depth) {
  std::optional<Node> n = printer_.fs().Get(path, depth);
  return n ? NodeToJson(*n) : Json();
}

Json NativePrinter::fs_to_dict_legacy() { return printer_.fs().ToDictLegacy(); }

Json NativePrinter::fs_file_info(const std::string& path) {
  StatusOr<Json> info = printer_.fs().FileInfo(path);
  ThrowIfError(info.status());
  return *info;
}

std::string NativePrinter::fs_os_path(const std::string& path) {
  StatusOr<std::string> p = printer_.fs().OsPath(path);
  ThrowIfError(p.status());
  return *p;
}

bool NativePrinter::fs_wait_until_path(const std::string& path, int64_t timeout_ms, bool exists) {
  return printer_.fs().WaitUntilPath(path, timeout_ms, exists);
}

void NativePrinter::fs_create_folder(const std::string& path) {
  ThrowIfError(printer_.fs().CreateFolder(path));
}
void NativePrinter::fs_delete_file(const std::string& path) {
  ThrowIfError(printer_.fs().DeleteFile(path));
}
void NativePrinter::fs_delete_folder(const std::string& path, bool force) {
  ThrowIfError(printer_.fs().DeleteFolder(path, force));
}

void NativePrinter::fs_process_pending() { printer_.fs().ProcessPendingChanges(); }

Json NativePrinter::fs_space(const std::string& storage) {
  SpaceInfo s = printer_.fs().Space(storage);
  Json out = Json::MakeObject();
  if (s.free_space) out.set("free_space", *s.free_space);
  if (s.total_space) out.set("total_space", *s.total_space);
  return out;
}

void NativePrinter::set_printed_file_cb(bool enabled) {
  if (!enabled) {
    printer_.set_printed_file_cb(nullptr);
    return;
  }
  std::shared_ptr<PyRef> weak = owner_;
  printer_.set_printed_file_cb([weak]() -> std::string {
    PythonCall call;
    if (!call.ok()) return "";
    PyObject* self = OwnerOf(weak);
    if (self == nullptr) return "";
    std::string path;
    PyObject* result = PyObject_CallMethod(self, "_printed_file", nullptr);
    if (result == nullptr) {
      PyErr_WriteUnraisable(self);
    } else if (PyUnicode_Check(result)) {
      Py_ssize_t size = 0;
      const char* text = PyUnicode_AsUTF8AndSize(result, &size);
      if (text != nullptr) {
        path.assign(text, static_cast<size_t>(size));
      } else {
        PyErr_Clear();
      }
    }
    Py_XDECREF(result);
    ReleaseOwnerLater(self);
    return path;
  });
}

Json NativePrinter::start_download(const std::string& type, const std::string& path,
                                   const std::string& url, bool to_print, bool to_select) {
  TransferType t = ParseOrThrow<TransferType>(type, "transfer type");
  StatusOr<TransferInfo> started = printer_.start_download(t, path, url, to_print, to_select);
  // An unknown storage is the SDK's ValueError("Invalid storage ..."), not
  // a FileNotFoundError.
  if (started.status().code() == StatusCode::kNotFound) {
    throw Error(StatusCode::kInvalidArgument, started.status().message());
  }
  ThrowIfError(started.status());
  return TransferToJson(*started);
}

void NativePrinter::stop_transfer(int64_t transfer_id) {
  std::optional<uint32_t> id;
  if (transfer_id != 0) {
    if (transfer_id < 0 || transfer_id > int64_t{UINT32_MAX}) {
      throw Error(StatusCode::kNotFound, "Wrong transfer_id");
    }
    id = static_cast<uint32_t>(transfer_id);
  }
  ThrowIfError(printer_.stop_transfer(id));
}

Json NativePrinter::transfer_info() const { return TransferToJson(printer_.transfer_info()); }

void NativePrinter::set_download_finished_cb(bool enabled) {
  if (!enabled) {
    printer_.set_download_finished_cb(nullptr);
    return;
  }
  std::shared_ptr<PyRef> weak = owner_;
  printer_.set_download_finished_cb([weak](const TransferInfo& done) {
    // On the transfer's thread: no GIL here, the callback thread calls Python.
    Json info = TransferToJson(done);
    CallOwnerLater(weak, "_on_download_finished", [info = std::move(info)]() -> PyObject* {
      PyObject* dict = FromJson(info);
      return dict != nullptr ? Py_BuildValue("(N)", dict) : nullptr;
    });
  });
}

void NativePrinter::set_transfer_rate_limit(int64_t bytes_per_second) {
  printer_.set_transfer_rate_limit(bytes_per_second < 0 ? 0 : bytes_per_second);
}

void NativePrinter::start() { printer_.start(); }
void NativePrinter::stop() { printer_.stop(); }

void NativePrinter::loop_begin() {
  std::lock_guard<std::mutex> lock(loop_mu_);
  loop_stop_ = false;
}

bool NativePrinter::loop_wait(int64_t timeout_ms) {
  std::unique_lock<std::mutex> lock(loop_mu_);
  if (timeout_ms < 0) {
    loop_cv_.wait(lock, [this] { return loop_stop_; });
  } else {
    loop_cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [this] { return loop_stop_; });
  }
  return loop_stop_;
}

void NativePrinter::stop_loop() {
  {
    std::lock_guard<std::mutex> lock(loop_mu_);
    loop_stop_ = true;
  }
  loop_cv_.notify_all();
}

bool NativePrinter::flush(int64_t timeout_ms) { return printer_.flush(timeout_ms); }

Json NativePrinter::stats() const {
  PrinterStats s = printer_.stats();
  auto n = [](uint64_t v) { return Json(static_cast<unsigned long long>(v)); };  // NOLINT
  return Json::MakeObject({{"events_queued", n(s.events_queued)},
                           {"events_sent", n(s.events_sent)},
                           {"events_dropped_overflow", n(s.events_dropped_overflow)},
                           {"events_dropped_rejected", n(s.events_dropped_rejected)},
                           {"events_retried", n(s.events_retried)},
                           {"telemetry_queued", n(s.telemetry_queued)},
                           {"telemetry_sent", n(s.telemetry_sent)},
                           {"telemetry_coalesced", n(s.telemetry_coalesced)},
                           {"requests_failed", n(s.requests_failed)},
                           {"commands_received", n(s.commands_received)},
                           {"events_buffered", n(s.events_buffered)}});
}

Condition* NativePrinter::CondNode(int node) {
  Conditions& c = printer_.conditions();
  switch (node) {
    case 0:
      return &c.INTERNET;
    case 1:
      return &c.HTTP;
    case 2:
      return &c.TOKEN;
    case 3:
      return &c.API;
    default:
      throw Error(StatusCode::kInvalidArgument, "no condition " + std::to_string(node));
  }
}

int NativePrinter::cond_state(int node) { return CondStateToInt(CondNode(node)->state()); }
std::string NativePrinter::cond_reason(int node) { return CondNode(node)->reason(); }

bool NativePrinter::cond_set_state(int node, int state) {
  Condition* c = CondNode(node);
  if (state == 1) return c->set_state(CondState::kOk);
  if (state == 2) return c->set_state(CondState::kNok);
  return false;
}

Json NativePrinter::cond_info(int node) {
  Condition* c = CondNode(node);
  auto index_of = [this](const Condition* p) -> Json {
    for (int i = 0; i < 4; ++i) {
      if (CondNode(i) == p) return Json(i);
    }
    return Json();
  };
  Json children = Json::MakeArray();
  for (const Condition* child : c->children()) children.push_back(index_of(child));
  return Json::MakeObject({{"name", c->name()},
                           {"long_msg", c->long_msg()},
                           {"short_msg", c->short_msg()},
                           {"priority", c->priority()},
                           {"parent", c->parent() != nullptr ? index_of(c->parent()) : Json()},
                           {"children", children}});
}

void NativePrinter::cond_watch(int node) {
  Condition* c = CondNode(node);
  {
    std::lock_guard<std::mutex> lock(loop_mu_);
    if (watched_[node]) return;
    watched_[node] = true;
  }
  std::shared_ptr<PyRef> weak = owner_;
  auto report = [weak, node](bool ok) {
    return [weak, node, ok](const Condition&, CondState old_state) {
      int old = CondStateToInt(old_state);
      CallOwnerLater(weak, "_on_condition", [node, ok, old] {
        return Py_BuildValue("(iOi)", node, ok ? Py_True : Py_False, old);
      });
    };
  };
  c->add_fixed_callback(report(true));
  c->add_broke_callback(report(false));
}

int NativePrinter::worst_condition() {
  Condition* worst = printer_.conditions().tracker.get_worst();
  for (int i = 0; i < 4; ++i) {
    if (CondNode(i) == worst) return i;
  }
  return -1;
}

// ---------------------------------------------------------------- module functions

namespace {
std::mutex log_mu;
std::shared_ptr<PyRef> log_forwarder;  // guarded by log_mu
}  // namespace

void install_log_sink(PyObject* forwarder) {
  if (forwarder == nullptr || forwarder == Py_None) {
    SetLogSink(nullptr);
    std::lock_guard<std::mutex> lock(log_mu);
    log_forwarder.reset();
    return;
  }
  {
    std::lock_guard<std::mutex> lock(log_mu);
    log_forwarder = std::make_shared<PyRef>(forwarder);
  }
  SetLogSink([](LogLevel level, const std::string& component, const std::string& message) {
    std::shared_ptr<PyRef> fn;
    {
      std::lock_guard<std::mutex> lock(log_mu);
      fn = log_forwarder;
    }
    if (!fn) return;
    Dispatch(
        [fn, level, component, message] {
          PyObject* result = PyObject_CallFunction(fn->get(), "(iNN)", static_cast<int>(level),
                                                   PyText(component), PyText(message));
          if (result == nullptr) PyErr_WriteUnraisable(fn->get());
          Py_XDECREF(result);
        },
        /*droppable=*/true);
  });
}

void set_log_level(int level) {
  LogLevel l = LogLevel::kError;
  if (level <= 10) {
    l = LogLevel::kDebug;
  } else if (level <= 20) {
    l = LogLevel::kInfo;
  } else if (level <= 30) {
    l = LogLevel::kWarning;
  }
  SetLogLevel(l);
}

int log_level() { return static_cast<int>(GetLogLevel()); }
uint64_t dropped_log_records() { return DroppedLogRecords(); }
std::string fingerprint_from_serial(const std::string& sn) { return FingerprintFromSerial(sn); }
std::string library_version() { return Version(); }
std::string sdk_version() { return SDK_VERSION; }

Json enum_names(const std::string& kind) {
  if (kind == "State") return NamesOf<State>();
  if (kind == "JobState") return NamesOf<JobState>();
  if (kind == "MMUType") return NamesOf<MMUType>();
  if (kind == "StorageType") return NamesOf<StorageType>();
  if (kind == "Event") return NamesOf<Event>();
  if (kind == "Source") return NamesOf<Source>();
  if (kind == "Command") return NamesOf<Command>();
  if (kind == "TransferType") return NamesOf<TransferType>();
  if (kind == "FileType") return NamesOf<FileType>();
  if (kind == "RegistrationStatus") return NamesOf<RegistrationStatus>();
  if (kind == "CapabilityType") return NamesOf<CapabilityType>();
  if (kind == "TriggerScheme") return NamesOf<TriggerScheme>();
  throw Error(StatusCode::kInvalidArgument, "unknown enum: " + kind);
}

Json printer_types() {
  Json out = Json::MakeArray();
  for (const PrinterType& t : PrinterType::All()) {
    out.push_back(Json::MakeArray({t.Name(), t.type(), t.version(), t.subversion()}));
  }
  return out;
}

void shutdown() {
  // No more log records: what library threads log from now on is dropped.
  SetLogSink(nullptr);
  {
    std::lock_guard<std::mutex> lock(log_mu);
    log_forwarder.reset();
  }
  Shutdown();
}

}  // namespace prusaconnect::python
