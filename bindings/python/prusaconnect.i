// Copyright 2026 The libprusaconnect Authors.
//
// SWIG interface of the compiled module `prusaconnect._prusaconnect`: the
// facade of py_printer.h. The pure-Python package around it
// (bindings/python/prusaconnect) is the public API; nothing here is meant
// to be used directly.
//
// Generated with -builtin (native types, no shadow classes) and -threads.
// GIL policy: by default a call keeps the GIL (it only takes short library
// locks that no GIL holder ever waits on from the other side: the library
// never calls Python with a lock held and its network thread never takes the
// GIL). Calls that block — network, waiting, running handlers, stopping the
// network attachment — release it (the "nothread" feature set to 0 below).
%module(package="prusaconnect") _prusaconnect

// The wrappers release the GIL with prusaconnect::python::AllowThreads
// (py_runtime.h) instead of SWIG's own class, which can abort the process
// when a daemon thread returns from a blocking call at interpreter exit.
%begin %{
#define SWIG_PYTHON_NO_USE_GIL
#define SWIG_PYTHON_THREAD_BEGIN_BLOCK PyGILState_STATE _swig_thread_block = PyGILState_Ensure()
#define SWIG_PYTHON_THREAD_END_BLOCK PyGILState_Release(_swig_thread_block)
#define SWIG_PYTHON_THREAD_BEGIN_ALLOW prusaconnect::python::AllowThreads _swig_thread_allow
#define SWIG_PYTHON_THREAD_END_ALLOW _swig_thread_allow.end()
%}

%{
#include "py_client.h"
#include "py_printer.h"
%}

%include <stdint.i>
%include <std_string.i>

// Declared for SWIG only: values of this type cross as Python objects.
namespace prusaconnect {
class Json;
}

// ---- JSON values cross as Python objects ----
%typemap(in) const prusaconnect::Json& (prusaconnect::Json temp) {
  if (!prusaconnect::python::ToJson($input, &temp)) SWIG_fail;
  $1 = &temp;
}
%typemap(typecheck, precedence=SWIG_TYPECHECK_POINTER) const prusaconnect::Json& {
  $1 = 1;
}
%typemap(out) prusaconnect::Json {
  $result = prusaconnect::python::FromJson($1);
  if ($result == nullptr) SWIG_fail;
}

// ---- errors ----
%exception {
  try {
    $action
  } catch (const prusaconnect::python::Error& e) {
    prusaconnect::python::SetPythonError(e);
    SWIG_fail;
  } catch (const std::exception& e) {
    PyErr_SetString(PyExc_RuntimeError, e.what());
    SWIG_fail;
  }
}
// command() re-raises a BaseException (KeyboardInterrupt, SystemExit...)
// that a handler it ran let through.
%exception prusaconnect::python::NativePrinter::command {
  try {
    $action
  } catch (const prusaconnect::python::Error& e) {
    prusaconnect::python::SetPythonError(e);
    SWIG_fail;
  }
  if (prusaconnect::python::RestoreStashedError()) SWIG_fail;
}

// ---- GIL ----
%feature("nothread");
%feature("nothread", "0") prusaconnect::python::NativePrinter::~NativePrinter;
%feature("nothread", "0") prusaconnect::python::NativePrinter::connection_from_config;
%feature("nothread", "0") prusaconnect::python::NativePrinter::register_printer;
%feature("nothread", "0") prusaconnect::python::NativePrinter::get_info;
%feature("nothread", "0") prusaconnect::python::NativePrinter::command;
%feature("nothread", "0") prusaconnect::python::NativePrinter::wait_for_command;
%feature("nothread", "0") prusaconnect::python::NativePrinter::start;
%feature("nothread", "0") prusaconnect::python::NativePrinter::stop;
%feature("nothread", "0") prusaconnect::python::NativePrinter::loop_wait;
%feature("nothread", "0") prusaconnect::python::NativePrinter::flush;
%feature("nothread", "0") prusaconnect::python::NativePrinter::attach;
%feature("nothread", "0") prusaconnect::python::NativePrinter::detach;
%feature("nothread", "0") prusaconnect::python::NativePrinter::fs_get;
%feature("nothread", "0") prusaconnect::python::NativePrinter::fs_to_dict_legacy;
%feature("nothread", "0") prusaconnect::python::NativePrinter::fs_file_info;
%feature("nothread", "0") prusaconnect::python::NativePrinter::fs_wait_until_path;
%feature("nothread", "0") prusaconnect::python::NativePrinter::fs_create_folder;
%feature("nothread", "0") prusaconnect::python::NativePrinter::fs_delete_file;
%feature("nothread", "0") prusaconnect::python::NativePrinter::fs_delete_folder;
%feature("nothread", "0") prusaconnect::python::NativePrinter::fs_space;
%feature("nothread", "0") prusaconnect::python::NativePrinter::fs_process_pending;
%feature("nothread", "0") prusaconnect::python::NativePrinter::attach_storage;
%feature("nothread", "0") prusaconnect::python::NativePrinter::refresh_storage;
%feature("nothread", "0") prusaconnect::python::NativePrinter::start_download;
%feature("nothread", "0") prusaconnect::python::NativePrinter::stop_transfer;
%feature("nothread", "0") prusaconnect::python::NativePrinter::camera_add;
%feature("nothread", "0") prusaconnect::python::NativePrinter::camera_remove;
%feature("nothread", "0") prusaconnect::python::NativePrinter::camera_register;
%feature("nothread", "0") prusaconnect::python::NativePrinter::camera_set_trigger_scheme;
%feature("nothread", "0") prusaconnect::python::NativePrinter::camera_layer_changed;
%feature("nothread", "0") prusaconnect::python::NativePrinter::camera_trigger;
%feature("nothread", "0") prusaconnect::python::NativePrinter::camera_set_options;
%feature("nothread", "0") prusaconnect::python::NativePrinter::camera_watch_tokens;
%feature("nothread", "0") prusaconnect::python::shutdown;
// Every client call may wait on the network.
%feature("nothread", "0") prusaconnect::python::NativeConnectClient::NativeConnectClient;
%feature("nothread", "0") prusaconnect::python::NativeConnectClient::~NativeConnectClient;
%feature("nothread", "0") prusaconnect::python::NativeConnectClient::printers;
%feature("nothread", "0") prusaconnect::python::NativeConnectClient::printer;
%feature("nothread", "0") prusaconnect::python::NativeConnectClient::supported_commands;
%feature("nothread", "0") prusaconnect::python::NativeConnectClient::invalidate_commands;
%feature("nothread", "0") prusaconnect::python::NativeConnectClient::validate_command;
%feature("nothread", "0") prusaconnect::python::NativeConnectClient::send_command;

%include "py_printer.h"
%include "py_client.h"
