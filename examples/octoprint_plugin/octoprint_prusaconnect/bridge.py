"""The plugin's core: the printer OctoPrint manages as a Prusa Connect
printer, on the `prusaconnect` module (libprusaconnect) the way a plugin
would use Prusa's SDK.

Nothing here imports OctoPrint: the plugin class (__init__.py) hands in
OctoPrint's injected objects (PrinterInterface, FileManager, PluginSettings)
and forwards events, so the tests drive it with stand-ins of those.

Threads:
  * ``_run`` (one daemon thread): identity, the Printer, registration, then a
    step every ``printing_interval`` / ``idle_interval`` seconds or at once
    when an event wakes it: state changes, job ids, telemetry, file refresh.
  * Connect's commands run on the library's handler threads
    (``background_handlers``); downloads on its transfer thread; callbacks
    (token, download finished) on the bindings' callback thread.
  * OctoPrint's threads (events, the firmware hook, settings saves, API
    calls) only record what happened and wake ``_run``; none waits for the
    network.
The library's network thread never runs Python.
"""
import logging
import os
import threading
import time
import urllib.parse

# PRUSACONNECT_PLUGIN_SDK=reference runs the same plugin on Prusa's SDK
# (prusa.connect.printer) for the benchmark of docs/PERFORMANCE.md: the
# import is all that changes, bar what the SDK does not have (host storages,
# cameras, per-printer conditions, background handlers), which is skipped.
REFERENCE_SDK = os.environ.get("PRUSACONNECT_PLUGIN_SDK") == "reference"
if REFERENCE_SDK:  # pragma: no cover - benchmark only
    from prusa.connect.printer import Printer, const  # pylint: disable=import-error
    from prusa.connect.printer import conditions as _sdk_conditions  # pylint: disable=import-error
    from prusa.connect.printer.conditions import CondState  # pylint: disable=import-error
    HttpSnapshotDriver = None
else:
    from prusaconnect import Printer, const
    from prusaconnect.camera import HttpSnapshotDriver
    from prusaconnect.conditions import CondState

from . import gcode, identity, states, storage

DEFAULTS = {
    "server": "https://connect.prusa3d.com",
    "printer_type": "I3MK3",
    "serial_number": "",      # chosen once, kept
    "serial_source": "",      # prusa-serial, m115-uuid, mac, random
    "token": "",              # admin only; the browser sees it masked
    "printing_interval": 1.0,  # seconds between telemetry while a job runs
    "idle_interval": 3.0,     # ... otherwise
    "printer_wait": 300,      # first start: seconds to wait for the M115 UUID
    "camera": True,           # OctoPrint's webcam snapshot URL as a Connect camera
    "snapshot_url": "",       # "" = OctoPrint's webcam setting
    "camera_token": "",
    "verify_tls": True,
    "last_job_id": 0,         # job ids never repeat
    "job_path": "",           # the job in progress, so a restart keeps its id
}
# Settings that need a new Printer when they change.
RESTART_KEYS = ("server", "printer_type", "token", "verify_tls")

NOT_REGISTERED = "not_registered"
WAITING = "waiting"
REGISTERED = "registered"
OFFLINE = "offline"
STARTING = "starting"

STATE_LABELS = {STARTING: "Starting", NOT_REGISTERED: "Not registered",
                WAITING: "Waiting", REGISTERED: "Registered", OFFLINE: "Offline"}

_SOURCES = {"MARLIN": const.Source.MARLIN, "CONNECT": const.Source.CONNECT}


class Bridge:
    """One OctoPrint printer in Connect."""

    # pylint: disable=too-many-instance-attributes,too-many-arguments
    def __init__(self, octo_printer, file_manager, settings, *, send_message=None,
                 notify=None, wrap_file=None, logger=None, firmware_info=None,
                 printer_options=None):
        self._octo = octo_printer
        self._files = file_manager
        self._settings = settings
        self._send = send_message or (lambda data: None)
        self._notify = notify or (lambda text: None)
        self._wrap_file = wrap_file
        self._log = logger or logging.getLogger("octoprint.plugins.prusaconnect")
        self._printer_options = dict(printer_options or {})
        self._lock = threading.RLock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread = None
        self.printer = None
        self.storage = None
        self._firmware = firmware_info  # M115 data dict
        self._firmware_seen = threading.Event()
        if firmware_info:
            self._firmware_seen.set()
        self._restart = False
        self._register_now = False
        self._files_dirty = False
        # job tracking (as the daemon's Adapter::Report)
        self._had_job = False
        self._job_end = None
        self._stop_requested = False
        self._hold = None
        self._last_completion = None
        self._next_source = "MARLIN"
        self._reported = None
        self._reported_reason = ""
        self._octo_state = states.OFFLINE
        self._status = {"state": STARTING}
        self._last_sent_status = None

    # ------------------------------------------------------------ settings
    def get(self, key):
        value = self._settings.get([key])
        return DEFAULTS[key] if value is None else value

    def _set(self, key, value):
        self._settings.set([key], value)
        self._settings.save()

    # ------------------------------------------------------------ lifecycle
    def start(self):
        """Starts the bridge's thread; returns at once (OctoPrint's startup
        is never blocked)."""
        self._thread = threading.Thread(target=self._run, name="prusaconnect", daemon=True)
        self._thread.start()

    def stop(self, timeout=10.0):
        self._stopping.set()
        self._wake.set()
        self._firmware_seen.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self._close_printer()

    def settings_changed(self, changed_keys):
        """After OctoPrint saved the plugin's settings (any thread)."""
        with self._lock:
            if set(changed_keys) & set(RESTART_KEYS) or "camera" in changed_keys \
                    or "snapshot_url" in changed_keys:
                self._restart = True
        self._wake.set()

    def request_registration(self):
        """The Register button: a new code now (also after one expired)."""
        with self._lock:
            self._register_now = True
        self._wake.set()

    def reset_registration(self):
        """Forgets the token (keeps the serial number and the job ids) and
        registers anew."""
        self._set("token", "")
        self._set("camera_token", "")
        self._log.info("registration reset: the printer registers anew")
        with self._lock:
            self._restart = True
            self._register_now = True
        self._wake.set()

    # ------------------------------------------------------------ OctoPrint's side
    def on_firmware_info(self, name, data):
        """The octoprint.comm.protocol.firmware.info hook (a serial thread):
        record only."""
        self._firmware = dict(data or {})
        self._firmware_seen.set()

    def on_event(self, event, payload):
        """EventHandlerPlugin.on_event (OctoPrint's event thread)."""
        payload = payload or {}
        with self._lock:
            if event == "FirmwareData":
                self._firmware = dict(payload.get("data") or {})
                self._firmware_seen.set()
            elif event == "PrintDone":
                self._job_end = "FINISHED"
            elif event in ("PrintCancelled", "PrintFailed"):
                if self._job_end is None:
                    self._job_end = "STOPPED"
            elif event in ("FileAdded", "FileRemoved", "FolderAdded", "FolderRemoved",
                           "FileMoved", "FolderMoved", "UpdatedFiles"):
                self._files_dirty = True
            elif event not in ("PrintStarted", "PrintPaused", "PrintResumed", "Connected",
                               "Disconnected", "Error", "PrinterStateChanged", "FileSelected",
                               "ZChange"):
                return
        self._wake.set()

    def on_print_progress(self, storage_name, path, progress):
        """ProgressPlugin: each percent of a print."""
        self._wake.set()

    def status(self):
        """What the settings page and GET /api/plugin/prusaconnect show."""
        with self._lock:
            out = dict(self._status)
        out["serial_number"] = self.get("serial_number")
        out["printer_type"] = self.get("printer_type")
        out["server"] = self.get("server")
        out["connect_state"] = self._reported
        return out

    # ------------------------------------------------------------ the thread
    def _run(self):
        try:
            if not self._choose_identity():
                return
            while not self._stopping.is_set():
                with self._lock:
                    restart, self._restart = self._restart, False
                if restart or self.printer is None:
                    self._close_printer()
                    self._open_printer()
                self._registration_step()
                self._step()
                interval = float(self.get("printing_interval") if states.has_job(self._octo_state)
                                 else self.get("idle_interval"))
                self._wake.wait(max(0.05, interval))
                self._wake.clear()
        except Exception:  # pylint: disable=broad-except
            self._log.exception("Prusa Connect stopped working")
            self._publish({"state": OFFLINE, "problem": "internal error: see octoprint.log"})

    def _choose_identity(self):
        serial = self.get("serial_number")
        source = self.get("serial_source")
        if serial and (identity.from_printer(source) or self.get("token")):
            return True
        # A fallback identity never registered is chosen again: the
        # printer's UUID wins if it is there now.
        wait = float(self.get("printer_wait"))
        if not self._firmware_seen.is_set() and wait > 0:
            self._log.warning(
                "Waiting up to %d s for the printer's firmware report (M115): its UUID becomes "
                "this printer's identity in Prusa Connect. Connect the printer in OctoPrint.",
                wait)
            self._publish({"state": STARTING,
                           "problem": "waiting for the printer to connect (its M115 UUID "
                                      "becomes the serial number)"})
            self._firmware_seen.wait(wait)
        if self._stopping.is_set():
            return False
        new_serial, new_source = identity.serial_from_firmware(self._firmware)
        if not new_serial:
            if serial:
                return True  # keep the unregistered fallback
            new_serial, new_source = identity.fallback()
            self._log.warning(
                "The printer reported no serial number or UUID: using %s (%s) as its serial "
                "number. Until it is registered, a later start tries the printer's UUID again; "
                "afterwards use Reset registration to switch.", new_serial, new_source)
        if new_serial != serial:
            self._set("serial_number", new_serial)
            self._set("serial_source", new_source)
            self._log.info("Prusa Connect identity: serial number %s (from %s)",
                           new_serial, new_source)
        return True

    def _open_printer(self):
        serial = self.get("serial_number")
        type_name = str(self.get("printer_type"))
        try:
            printer_type = const.PrinterType[type_name]
        except KeyError:
            self._log.error("unknown printer type %r; using I3MK3", type_name)
            printer_type = const.PrinterType.I3MK3
        if REFERENCE_SDK:
            printer = Printer(printer_type, serial, identity.fingerprint(serial))
        else:
            options = {"background_handlers": True, "verify_tls": bool(self.get("verify_tls"))}
            options.update(self._printer_options)
            printer = Printer(printer_type, serial, identity.fingerprint(serial), **options)
        printer.software = "OctoPrint-PrusaConnect"
        firmware = (self._firmware or {}).get("FIRMWARE_NAME")
        if firmware:
            printer.firmware = str(firmware)
        printer.set_connection(self.get("server"), self.get("token") or None)
        printer.register_handler = self._on_token
        self._install_handlers(printer)
        if REFERENCE_SDK:  # pragma: no cover - benchmark only
            _sdk_conditions.API.add_broke_handler(self._on_connect_broke)
            _sdk_conditions.API.add_fixed_handler(self._on_connect_fixed)
            self._start_sdk_threads(printer)
            self.printer = printer
            return
        printer.printed_file_cb = self._printed_file
        printer.download_finished_cb = self._on_download_finished
        printer.conditions.API.add_broke_handler(self._on_connect_broke)
        printer.conditions.API.add_fixed_handler(self._on_connect_fixed)
        printer.start()
        self.printer = printer
        if self.get("job_path"):
            printer.job_id = int(self.get("last_job_id"))
        self._attach_storage()
        self._reported = None
        self._reported_reason = ""
        self._setup_camera()

    def _start_sdk_threads(self, printer):  # pragma: no cover - benchmark only
        """The SDK's model: the host runs loop() and command() itself."""
        self._sdk_stop = threading.Event()

        def commands():
            while not self._sdk_stop.is_set():
                if printer.command.new_cmd_evt.wait(0.5):
                    printer.command()
        self._sdk_threads = [threading.Thread(target=printer.loop, daemon=True),
                             threading.Thread(target=commands, daemon=True)]
        for thread in self._sdk_threads:
            thread.start()

    def _close_printer(self):
        printer, self.printer = self.printer, None
        if printer is None:
            return
        if REFERENCE_SDK:  # pragma: no cover - benchmark only
            self._sdk_stop.set()
            printer.stop_loop()
            return
        try:
            printer.flush(2.0)  # what is queued for Connect, for 2 s at most
        except Exception:  # pylint: disable=broad-except
            pass
        printer.stop()

    def _attach_storage(self):
        if self._wrap_file is None or REFERENCE_SDK:
            return
        try:
            data_folder = self._settings.global_get_basefolder("data")
        except Exception:  # pylint: disable=broad-except
            data_folder = None
        provider = storage.FileManagerStorage(self._files, self._octo, self._wrap_file,
                                              logger=self._log, data_folder=data_folder)
        try:
            self.printer.attach_storage(provider)
            self.storage = provider
        except Exception as err:  # pylint: disable=broad-except
            self._log.warning("OctoPrint's files are not in Connect yet: %s", err)
            self.storage = None
            self._files_dirty = True

    def _setup_camera(self):
        if not self.get("camera") or not self.get("token") or REFERENCE_SDK:
            return
        url = self.get("snapshot_url") or _webcam_snapshot(self._settings)
        if not url:
            return
        controller = self.printer.camera_controller
        try:
            controller.add_camera("octoprint", HttpSnapshotDriver(url=url, verify_tls=False),
                                  name="OctoPrint webcam",
                                  token=self.get("camera_token") or None)
            if not self.get("camera_token"):
                self._set("camera_token", controller.register_camera("octoprint"))
            self._log.info("OctoPrint's webcam (%s) is a Connect camera", url)
        except Exception as err:  # pylint: disable=broad-except
            self._log.warning("the webcam could not be added to Connect: %s", err)

    # ------------------------------------------------------------ registration
    def _registration_step(self):
        printer = self.printer
        if printer.token:
            return
        with self._lock:
            now, self._register_now = self._register_now, False
        in_progress = (printer.code is not None if REFERENCE_SDK else
                       printer.registration_status is const.RegistrationStatus.IN_PROGRESS)
        if in_progress and not now:
            # Still polling for the code shown; say so again if a failed new
            # attempt (Register pressed while Connect was away) said otherwise.
            if self._status.get("state") != WAITING and printer.code:
                url = add_printer_url(self.get("server"), printer.type, printer.code)
                self._publish({"state": WAITING, "code": printer.code, "url": url,
                               "qr": qr_svg(url), "problem": None})
            return
        expired = printer.code is not None and not in_progress
        try:
            code = printer.register()
        except Exception as err:  # pylint: disable=broad-except
            if in_progress:  # the code shown so far is still being polled
                self._log.warning("a new registration code failed (%s); the last one stays", err)
                self._publish({"state": WAITING, "problem": f"a new code failed: {err}"})
                return
            self._publish({"state": NOT_REGISTERED, "code": None, "url": None, "qr": None,
                           "problem": f"cannot register with Prusa Connect: {err}"})
            return
        url = add_printer_url(self.get("server"), printer.type, code)
        self._log.info("Prusa Connect registration%s: open %s or type the code %s in Connect",
                       " (the last code expired)" if expired else "", url, code)
        self._notify(f"Prusa Connect: enter code {code} at Connect to add this printer")
        self._publish({"state": WAITING, "code": code, "url": url, "qr": qr_svg(url),
                       "problem": None})

    def _on_token(self, token):
        """The library's register callback (the bindings' callback thread)."""
        self._set("token", token)
        self._log.info("registered with Prusa Connect")
        self._publish({"state": REGISTERED, "code": None, "url": None, "qr": None})
        self._notify("Prusa Connect: the printer is registered")
        with self._lock:
            self._restart = bool(self.get("camera"))  # the camera needs the token
        self._wake.set()

    def _on_connect_broke(self, condition, *_):
        problem = _connect_problem(condition)
        self._log.warning("the link to Prusa Connect is broken at %s", problem)
        if self.printer is not None and self.printer.token:
            self._publish({"state": OFFLINE, "problem": problem})

    def _on_connect_fixed(self, *_):
        if self.printer is not None and self.printer.token:
            self._publish({"state": REGISTERED, "problem": None})

    def _publish(self, update):
        with self._lock:
            self._status.update(update)
            message = dict(self._status)
        if message != self._last_sent_status:
            self._last_sent_status = message
            self._send(self.status())

    # ------------------------------------------------------------ state and telemetry
    def _snapshot(self):
        data = self._octo.get_current_data() or {}
        state = data.get("state") or {}
        flags = states.true_flags(state.get("flags"))
        return data, states.classify(flags, state.get("text") or "")

    def _step(self):
        printer = self.printer
        if REFERENCE_SDK:  # pragma: no cover - benchmark only
            pass
        elif self.storage is None:
            self._attach_storage()
        elif self._files_dirty:
            self._files_dirty = False
            try:
                printer.refresh_storage(self.storage.name)
            except Exception as err:  # pylint: disable=broad-except
                self._files_dirty = True
                self._log.debug("refreshing OctoPrint's files failed: %s", err)
        data, octo = self._snapshot()
        self._report(printer, data, octo)

    def _report(self, printer, data, octo):
        # pylint: disable=too-many-branches
        has_job = states.has_job(octo)
        job_file = ((data.get("job") or {}).get("file") or {})
        progress = data.get("progress") or {}
        completion = progress.get("completion")
        new_job = ended = None
        with self._lock:
            self._octo_state = octo
            if has_job and not self._had_job:
                new_job = job_file.get("path") or ""
                self._hold = None
                self._stop_requested = False
                self._job_end = None
            if not has_job and self._had_job:
                if self._job_end:
                    ended = self._job_end
                elif self._stop_requested:
                    ended = "STOPPED"
                else:
                    done = (self._last_completion or 0) >= 99.9 or (completion or 0) >= 99.9
                    ended = "FINISHED" if done else "STOPPED"
                self._hold = ended
                self._job_end = None
                self._stop_requested = False
            if has_job:
                self._last_completion = completion
            self._had_job = has_job
            desired = states.connect_state(octo)
            if desired == "IDLE":
                if self._hold:
                    desired = self._hold
                elif printer.ready:
                    desired = "READY"
            why = ""
            if desired == "ERROR":
                error = (data.get("state") or {}).get("error") or ""
                why = error or f"{states.reason(octo)} (OctoPrint state: " \
                               f"{(data.get('state') or {}).get('text') or 'unknown'})"
            changed = desired != self._reported or why != self._reported_reason
            self._reported, self._reported_reason = desired, why
            source = self._next_source
            if changed:
                self._next_source = "MARLIN"
        if new_job is not None:
            if self.get("job_path") == new_job and self.get("last_job_id"):
                job_id = int(self.get("last_job_id"))  # the same print, after a restart
            else:
                job_id = int(self.get("last_job_id")) + 1
                self._set("last_job_id", job_id)
                self._set("job_path", new_job)
            printer.job_id = job_id
            self._log.info("job %d started: %s", job_id, new_job)
        if changed:
            kwargs = {"reason": why} if why else {}
            printer.set_state(const.State[desired], _SOURCES[source], **kwargs)
        if ended:
            self._log.info("job ended: %s", ended)
            printer.job_id = None
            self._set("job_path", "")
        printer.telemetry(**self._telemetry(data, has_job, new_job is not None))

    def _telemetry(self, data, has_job, new_job):
        temps = self._octo.get_current_temperatures() or {}
        out = {}
        for key, heater in (("nozzle", "tool0"), ("bed", "bed")):
            t = temps.get(heater) or {}
            if isinstance(t.get("actual"), (int, float)):
                out["temp_" + key] = float(t["actual"])
            if isinstance(t.get("target"), (int, float)):
                out["target_" + key] = float(t["target"])
        z = data.get("currentZ")
        if isinstance(z, (int, float)) and not new_job:
            out["axis_z"] = float(z)
        if has_job:
            out.update(_progress_fields(data.get("progress")))
        return out

    # ------------------------------------------------------------ commands
    def _install_handlers(self, printer):
        handlers = {
            const.Command.START_PRINT: self._start_print,
            const.Command.STOP_PRINT: lambda c: self._job_command("cancel"),
            const.Command.PAUSE_PRINT: lambda c: self._job_command("pause"),
            const.Command.RESUME_PRINT: lambda c: self._job_command("resume"),
            const.Command.GCODE: self._gcode,
            const.Command.SET_PRINTER_READY: lambda c: self._set_ready(True),
            const.Command.CANCEL_PRINTER_READY: lambda c: self._set_ready(False),
            const.Command.SEND_JOB_INFO: self._job_info,
        }
        for command, handler in handlers.items():
            printer.set_handler(command, handler)

    def _octo_now(self):
        return self._snapshot()[1]

    def _connect_source(self, on=True):
        """The next state change is Connect's doing: set before OctoPrint is
        asked (its events may be reported before the call returns), taken
        back when OctoPrint refused."""
        with self._lock:
            self._next_source = "CONNECT" if on else "MARLIN"
            if on:
                self._hold = None
        self._wake.set()

    def _start_print(self, caller):
        path = (caller.kwargs or {}).get("path") or ""
        prefix = f"/{storage.LOCAL}/"
        if not path.startswith(prefix) or path == prefix:
            return _reject(f"Only files in {prefix} (OctoPrint's uploads) can be printed, "
                           f"not {path or 'nothing'}")
        octo = self._octo_now()
        if octo != states.OPERATIONAL:
            return _reject(f"Cannot start a print: {states.reason(octo)}")
        local = path[len(prefix):]
        if not self._files.file_exists(storage.LOCAL, local):
            return _failed(f"File not found: {path}")
        self._connect_source()
        try:
            self._octo.select_file(self._files.path_on_disk(storage.LOCAL, local), False,
                                   printAfterSelect=True)
        except Exception as err:  # InvalidFileLocation, InvalidFileType
            self._connect_source(False)
            return _failed(f"OctoPrint refused to print {path}: {err}")
        self._log.info("START_PRINT %s", path)
        return {"source": const.Source.CONNECT}

    def _job_command(self, what):
        octo = self._octo_now()
        if what == "cancel":
            if not states.has_job(octo) or octo == states.CANCELLING:
                return _reject(f"Nothing to stop: {states.reason(octo)}")
            with self._lock:
                self._stop_requested = True
            self._connect_source()
            self._octo.cancel_print()
        elif what == "pause":
            if octo != states.PRINTING:
                return _reject(f"Cannot pause: {states.reason(octo)}")
            self._connect_source()
            self._octo.pause_print()
        else:
            if octo == states.PAUSING:
                # Connect shows PAUSING as PAUSED: wait for OctoPrint to get there.
                octo = self._wait_while(states.PAUSING, 10.0)
            if octo != states.PAUSED:
                return _reject(f"Cannot resume: {states.reason(octo)}")
            self._connect_source()
            self._octo.resume_print()
        self._log.info("%s requested by Connect", what)
        return {"source": const.Source.CONNECT}

    def _gcode(self, caller):
        text = (caller.kwargs or {}).get("gcode") or ""
        if not text and caller.args:
            text = str(caller.args[0])
        if not text:
            return _reject("GCODE needs the G-code to send")
        ok, lines, why = gcode.translate(text)
        if not ok:
            return _reject(why)
        if lines:
            octo = self._octo_now()
            if octo in (states.OFFLINE, states.CONNECTING, states.UNREACHABLE):
                return _reject(f"Cannot send G-code: {states.reason(octo)}")
            self._octo.commands(lines)
        return {"source": const.Source.MARLIN}

    def _wait_while(self, octo_state, seconds):
        """The OctoPrint state once it is no longer `octo_state`, or after
        `seconds` (a handler thread: waiting here holds up nobody)."""
        deadline = time.monotonic() + seconds
        octo = self._octo_now()
        while octo == octo_state and time.monotonic() < deadline and \
                not self._stopping.is_set():
            time.sleep(0.1)
            octo = self._octo_now()
        return octo

    def _set_ready(self, ready):
        octo = self._octo_now()
        printer = self.printer
        if ready and octo != states.OPERATIONAL:
            return _reject(f"Cannot set the printer ready: {states.reason(octo)}")
        if not ready and not printer.ready:
            return _reject("The printer is not set ready")
        state = const.State.READY if ready else const.State.IDLE
        with self._lock:
            self._hold = None
            self._reported = state.name
            self._reported_reason = ""
        printer.set_state(state, const.Source.CONNECT, ready=ready)
        return {"source": const.Source.CONNECT}

    def _job_info(self, caller):
        data, octo = self._snapshot()
        job_id = self.printer.job_id
        if not states.has_job(octo) or not job_id:
            return _reject("No job is running")
        job = data.get("job") or {}
        file_ = job.get("file") or {}
        progress = data.get("progress") or {}
        info = {"source": const.Source.CONNECT, "event": const.Event.JOB_INFO,
                "job_id": job_id, "path": f"/{storage.LOCAL}/{file_.get('path', '')}",
                "display_name": file_.get("display") or file_.get("name")}
        if isinstance(file_.get("size"), int):
            info["size"] = file_["size"]
        info.update(_progress_fields(progress))
        return info

    def _printed_file(self):
        """printed_file_cb: the delete commands refuse the file being printed."""
        if self.storage is None:
            return None
        path = self.storage._printed_path()  # pylint: disable=protected-access
        return f"/{storage.LOCAL}/{path}" if path else None

    def _on_download_finished(self, transfer):
        """A download stored into OctoPrint: select or print it when asked."""
        prefix = f"/{storage.LOCAL}/"
        if not (transfer.to_print or transfer.to_select) or not transfer.path.startswith(prefix):
            return
        local = transfer.path[len(prefix):]
        if self._octo_now() != states.OPERATIONAL:
            self._log.warning("downloaded %s, but the printer is not idle: not %s", transfer.path,
                              "printed" if transfer.to_print else "selected")
            return
        self._connect_source()
        try:
            self._octo.select_file(self._files.path_on_disk(storage.LOCAL, local), False,
                                   printAfterSelect=bool(transfer.to_print))
        except Exception as err:  # pylint: disable=broad-except
            self._connect_source(False)
            self._log.warning("downloaded %s, but OctoPrint refused to select it: %s",
                              transfer.path, err)


def _progress_fields(progress):
    """Connect's progress, time_printing and time_remaining from OctoPrint's
    progress dict (the values it has)."""
    out = {}
    for ours, theirs in (("progress", "completion"), ("time_printing", "printTime"),
                         ("time_remaining", "printTimeLeft")):
        value = (progress or {}).get(theirs)
        if isinstance(value, (int, float)):
            out[ours] = int(value)
    return out


def _reject(reason):
    return {"source": const.Source.CONNECT, "event": const.Event.REJECTED, "reason": reason}


def _failed(reason):
    return {"source": const.Source.CONNECT, "event": const.Event.FAILED, "reason": reason}


def _connect_problem(condition):
    """The broken link nearest the root and what happened to it."""
    cause = condition
    while cause.parent is not None and cause.parent.state is CondState.NOK:
        cause = cause.parent
    reason = getattr(cause, "reason", "") or cause.long_msg
    return f"{cause.name}: {reason}"


def add_printer_url(server, printer_type, code):
    value = getattr(printer_type, "value", printer_type)
    kind = f"{value[0]}.{value[1]}" if isinstance(value, tuple) else str(value)
    return f"{str(server).rstrip('/')}/add-printer/connect/{kind}/{urllib.parse.quote(code)}"


def qr_svg(text):
    """The QR code of `text` as SVG markup (python3-qrcode), or None."""
    try:
        import io  # pylint: disable=import-outside-toplevel
        import qrcode  # pylint: disable=import-outside-toplevel
        import qrcode.image.svg  # pylint: disable=import-outside-toplevel
    except ImportError:
        return None
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    out = io.BytesIO()
    image.save(out)
    return out.getvalue().decode()


def _webcam_snapshot(settings):
    """OctoPrint 1.10's classic webcam snapshot URL (older: webcam.snapshot)."""
    for path in (["plugins", "classicwebcam", "snapshot"], ["webcam", "snapshot"]):
        try:
            value = settings.global_get(path)
        except Exception:  # pylint: disable=broad-except
            value = None
        if value is not None:  # 1.10 has the first; only 1.9 the second
            return value if str(value).startswith(("http://", "https://")) else ""
    return ""


def redact(status):
    """The status without what only administrators may see: the code and
    its link (whoever has them can add the printer to their account), the
    server."""
    return {k: v for k, v in status.items() if k not in ("code", "url", "qr", "server")}


def mask(token):
    """The token as the browser may see it."""
    return ("\u2022" * 8 + token[-4:]) if token else ""

