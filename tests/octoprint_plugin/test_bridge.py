"""The plugin's core (octoprint_prusaconnect.bridge) on the prusaconnect
module, driven through OctoPrint 1.10 stand-ins (standins.py) against the
Connect emulator over loopback: registration, telemetry through a print,
every command, files, downloads into OctoPrint's file manager, refusals,
settings changed at run time, the printer disconnecting, a Connect outage.
Every wait is bounded and polls a condition."""
import base64
import io
import os
import uuid

import pytest

import standins
from harness import fingerprint, wait_for
from octoprint_prusaconnect import bridge

FAST = {"idle_interval": 0.2, "printing_interval": 0.2}


class Env:
    """The stand-ins, one Bridge on them, and what it told OctoPrint's UI."""

    def __init__(self, emulator, tmp_path, **settings):
        self.emulator = emulator
        self.tmp = str(tmp_path)
        self.octo = standins.make_plugin_env(self.tmp)
        self.settings = standins.StandInSettings(bridge.DEFAULTS, "prusaconnect",
                                                 event_bus=self.octo.event_bus, basedir=self.tmp)
        self.set(server=emulator.url, **FAST, **settings)
        self.messages = []
        self.notes = []
        self.bridge = None

    def set(self, **values):
        for key, value in values.items():
            self.settings.set([key], value)

    @property
    def printer(self):
        return self.octo.printer

    @property
    def files(self):
        return self.octo.file_manager

    def start(self):
        self.bridge = bridge.Bridge(
            self.printer, self.files, self.settings, send_message=self.messages.append,
            notify=self.notes.append,
            wrap_file=lambda name, path: standins.DiskFileWrapper(name, path, move=False),
            printer_options={"register_poll_interval": 0.1, "backoff_max": 1.0})
        self.octo.event_bus.add_handler(self.bridge.on_event)
        self.printer.add_progress_plugin(self.bridge)
        self.bridge.start()
        return self.bridge

    def stop(self):
        if self.bridge is not None:
            self.octo.event_bus.remove_handler(self.bridge.on_event)
            self.bridge.stop()
            self.bridge = None

    def add_file(self, path, data=b"G28\nG1 Z0.2 F300\nG1 X10\n"):
        self.files.add_file("local", path, standins.StreamWrapper(os.path.basename(path),
                                                                  io.BytesIO(data)))


@pytest.fixture
def make_env(emulator, tmp_path):
    made = []

    def make(**settings):
        env = Env(emulator, tmp_path / f"env{len(made)}", **settings)
        made.append(env)
        return env
    yield make
    for env in made:
        env.stop()
        env.octo.event_bus.close()


@pytest.fixture
def online(emulator, make_env):
    """A registered printer, connected in OctoPrint, IDLE in Connect."""
    def make(**settings):
        sn = str(uuid.uuid4())
        fp, token = emulator.add_printer(sn)
        env = make_env(serial_number=sn, serial_source="m115-uuid", token=token, **settings)
        env.printer.connect()
        env.start()
        assert emulator.wait_state(fp, "IDLE"), env.messages
        env.fp = fp
        return env
    return make


def run(env, command, kwargs=None):
    cid = env.emulator.queue(env.fp, command, kwargs)
    result = env.emulator.wait_result(env.fp, cid)
    assert result is not None, command
    return result


# ---------------------------------------------------------------- registration

def test_registration_shows_the_code_and_keeps_the_token(emulator, make_env):
    env = make_env()
    env.printer.connect()  # Virtual Marlin reports no UUID: the MAC, else random
    env.set(printer_wait=2)
    env.start()
    code = wait_for(lambda: env.bridge.status().get("code"))
    assert code, env.messages
    status = env.bridge.status()
    assert status["state"] == "waiting"
    assert status["url"].endswith(f"/add-printer/connect/1.3/{code}")
    assert status["qr"] and "<svg" in status["qr"]
    assert any(code in note for note in env.notes)
    assert any(m.get("code") == code for m in env.messages)  # the page learns it live
    serial = env.settings.get(["serial_number"])
    assert serial and env.settings.get(["serial_source"]) in ("mac", "random")
    token = emulator.approve(code)
    assert wait_for(lambda: env.settings.get(["token"]) == token)
    fp = fingerprint(serial)
    assert emulator.wait_state(fp, "IDLE")
    assert wait_for(lambda: env.bridge.status()["state"] == "registered")
    env.stop()

    # A restart with the stored token registers nothing new.
    before = len(emulator.codes())
    n = emulator.printer(fp)["telemetry_count"]
    env.start()
    assert wait_for(lambda: emulator.printer(fp)["telemetry_count"] > n)
    assert len(emulator.codes()) == before
    assert env.settings.get(["serial_number"]) == serial


def test_the_printers_uuid_becomes_the_serial_number(emulator, make_env):
    env = make_env(printer_wait=30)
    env.start()  # OctoPrint not connected to the printer yet: it waits
    assert wait_for(lambda: "waiting for the printer" in (env.bridge.status().get("problem")
                                                          or ""))
    env.bridge.on_firmware_info("Marlin", {"FIRMWARE_NAME": "Marlin 2.1.2",
                                           "UUID": "CEDE2A2F-41A2-4748-9B12-C55C62F367FF"})
    assert wait_for(lambda: env.settings.get(["serial_number"])
                    == "cede2a2f-41a2-4748-9b12-c55c62f367ff")
    assert env.settings.get(["serial_source"]) == "m115-uuid"
    assert wait_for(lambda: [c for c in emulator.codes()
                             if c["sn"] == "cede2a2f-41a2-4748-9b12-c55c62f367ff"])


def test_an_expired_code_is_replaced_and_reset_registers_anew(emulator, make_env):
    emulator.fault({"kind": "status", "status": 410, "path_prefix": "/p/register",
                    "method": "GET", "count": 1, "body": "expired"})
    try:
        env = make_env(serial_number=f"SN-EXP-{uuid.uuid4()}", serial_source="m115-uuid")
        env.printer.connect()
        env.start()
        first = wait_for(lambda: env.bridge.status().get("code"))
        assert first
        second = wait_for(lambda: env.bridge.status().get("code") not in (None, first)
                          and env.bridge.status()["code"])
        assert second, env.bridge.status()
    finally:
        emulator.clear_faults()
    emulator.approve(second)
    assert wait_for(lambda: env.bridge.status()["state"] == "registered")
    job_ids = env.settings.get(["last_job_id"])
    env.bridge.reset_registration()
    third = wait_for(lambda: env.bridge.status().get("code") not in (None, first, second)
                     and env.bridge.status()["code"])
    assert third and env.bridge.status()["state"] == "waiting"
    assert env.settings.get(["token"]) == ""
    assert env.settings.get(["last_job_id"]) == job_ids


# ---------------------------------------------------------------- a print

def test_telemetry_and_job_ids_through_a_whole_print(online):
    env = online()
    emulator, fp = env.emulator, env.fp
    env.add_file("prints/benchy.gcode")
    r = run(env, "START_PRINT", {"path": "/local/prints/benchy.gcode"})
    assert r["event"] == "FINISHED", r
    printing = emulator.wait_state(fp, "PRINTING")
    assert printing and printing["source"] == "CONNECT"
    job_id = printing["body"]["job_id"]
    env.printer.set_temps(tool0=(210.0, 215.0), bed=(59.0, 60.0))
    env.printer.set_progress(42.5)
    t = wait_for(lambda: (lambda t: t if t.get("progress") == 42 else None)(
        emulator.telemetry(fp)))
    assert t["temp_nozzle"] == 210.0 and t["target_nozzle"] == 215.0
    assert t["temp_bed"] == 59.0 and t["job_id"] == job_id and "axis_z" in t
    env.printer.set_progress(100)
    finished = emulator.wait_state(fp, "FINISHED")
    assert finished and finished["body"]["job_id"] == job_id
    # A reprint of the same file is a new job.
    since = emulator.last_log_seq()
    run(env, "START_PRINT", {"path": "/local/prints/benchy.gcode"})
    again = emulator.wait_event(fp, "STATE_CHANGED", pred=lambda e: e["state"] == "PRINTING"
                                and e["body"].get("job_id") == job_id + 1)
    assert again, emulator.events(fp)
    # The first telemetry of the new job has no Z from the last one.
    first = [t for _, t in emulator.telemetry_log(fp, since) if t.get("state") == "PRINTING"]
    assert first and first[0].get("axis_z") in (None, 0.2), first[0]


def test_pause_resume_stop_and_refusals(online):
    env = online()
    r = run(env, "PAUSE_PRINT")
    assert r["event"] == "REJECTED" and "idle" in r["body"]["reason"], r
    r = run(env, "START_PRINT", {"path": "/local/nope.gcode"})
    assert r["event"] == "FAILED" and r["body"]["reason"] == "File not found: /local/nope.gcode"
    r = run(env, "START_PRINT", {"path": "/usb/a.gcode"})
    assert r["event"] == "REJECTED" and "/local/" in r["body"]["reason"]
    env.add_file("a.gcode")
    run(env, "START_PRINT", {"path": "/local/a.gcode"})
    assert env.emulator.wait_state(env.fp, "PRINTING")
    r = run(env, "START_PRINT", {"path": "/local/a.gcode"})
    assert r["event"] == "REJECTED" and "printing" in r["body"]["reason"]
    assert run(env, "PAUSE_PRINT")["event"] == "FINISHED"
    assert env.emulator.wait_state(env.fp, "PAUSED")
    assert run(env, "RESUME_PRINT")["event"] == "FINISHED"
    assert wait_for(lambda: env.printer.is_printing())
    r = run(env, "SEND_JOB_INFO")
    assert r["event"] == "JOB_INFO" and r["body"]["data"]["path"] == "/local/a.gcode", r
    assert run(env, "STOP_PRINT")["event"] == "FINISHED"
    stopped = env.emulator.wait_state(env.fp, "STOPPED")
    assert stopped and stopped["source"] == "CONNECT"
    r = run(env, "SET_PRINTER_READY")
    assert r["event"] == "FINISHED"
    assert env.emulator.wait_state(env.fp, "READY")
    assert run(env, "CANCEL_PRINTER_READY")["event"] == "FINISHED"


def test_resume_while_octoprint_is_still_pausing(online):
    # Connect shows OctoPrint's Pausing as PAUSED and may send RESUME at once
    # (the real OctoPrint run saw it REJECTED "the printer is pausing").
    import threading
    env = online()
    env.add_file("a.gcode")
    run(env, "START_PRINT", {"path": "/local/a.gcode"})
    assert env.emulator.wait_state(env.fp, "PRINTING")
    env.printer.auto_complete = False  # hold OctoPrint in Pausing
    assert run(env, "PAUSE_PRINT")["event"] == "FINISHED"
    assert wait_for(lambda: env.printer.is_pausing())
    threading.Timer(1.0, env.printer.complete_transition).start()
    r = run(env, "RESUME_PRINT")
    assert r["event"] == "FINISHED", r
    assert wait_for(lambda: env.printer.is_printing())


def test_a_failed_new_code_keeps_showing_the_code_still_polled(emulator, make_env):
    env = make_env(serial_number=f"SN-RE-{uuid.uuid4()}", serial_source="m115-uuid")
    env.printer.connect()
    env.start()
    code = wait_for(lambda: env.bridge.status().get("code"))
    assert code
    emulator.fault({"kind": "status", "status": 503, "path_prefix": "/p/register",
                    "method": "POST", "count": 1})
    try:
        env.bridge.request_registration()  # Register pressed while Connect fails
        assert wait_for(lambda: "a new code failed" in (env.bridge.status().get("problem") or ""))
        assert env.bridge.status()["state"] == "waiting"
        assert env.bridge.status()["code"] == code  # still polled: approving it works
    finally:
        emulator.clear_faults()
    token = emulator.approve(code)
    assert wait_for(lambda: env.settings.get(["token"]) == token)


def test_gcode_is_translated_for_marlin_or_refused(online):
    env = online()
    r = run(env, "GCODE", {"gcode": "G80\nM220 S90 ; speed\nM862.3 P \"MK3S\"\nG28 W"})
    assert r["event"] == "FINISHED", r
    assert wait_for(lambda: {"G29", "M220 S90", "G28"} <= set(env.printer.sent_commands))
    r = run(env, "GCODE", {"gcode": "M701"})
    assert r["event"] == "REJECTED" and "load filament" in r["body"]["reason"]
    env.printer.disconnect()
    assert env.emulator.wait_state(env.fp, "ERROR")
    r = run(env, "GCODE", {"gcode": "M105"})
    assert r["event"] == "REJECTED" and "not connected" in r["body"]["reason"]


# ---------------------------------------------------------------- files

def test_octoprints_files_are_the_local_storage(online):
    env = online()
    env.add_file("old/a.gcode")
    env.add_file("b.gcode")
    env.files.set_analysis("b.gcode", estimatedPrintTime=3723, filament_mm=810.4)
    r = run(env, "SEND_INFO")
    local = [c for c in r["body"]["data"]["files"]["children"] if c["name"] == "local"]
    assert local, r
    names = {c["name"] for c in local[0]["children"]}
    assert {"old", "b.gcode"} <= names, names
    assert local[0]["free_space"] > 0
    # A slicer thumbnail, as the Slicer Thumbnails plugin keeps it.
    png = base64.b64decode(
        "iVBORw0KGgoAAAANSUhEUgAAAAIAAAABCAYAAAD0In+KAAAAEUlEQVR4nGP4z8DwHwQZYAwAV/EL9Xq/xVcAAAAASUVORK5CYII=")
    thumbs = os.path.join(env.settings.global_get_basefolder("data"), "prusaslicerthumbnails")
    os.makedirs(thumbs, exist_ok=True)
    with open(os.path.join(thumbs, "b.png"), "wb") as f:
        f.write(png)
    env.files.set_additional_metadata("local", "b.gcode", "thumbnail",
                                      "plugin/prusaslicerthumbnails/thumbnail/b.png?20261207")
    env.files.set_additional_metadata("local", "old/a.gcode", "thumbnail",
                                      "plugin/x/thumbnail/../../../etc/passwd")
    r = run(env, "SEND_FILE_INFO", {"path": "/local/b.gcode"})
    assert r["event"] == "FILE_INFO", r
    assert r["body"]["data"]["estimated printing time (normal mode)"] == "1h 2m 3s"
    assert r["body"]["data"]["preview"] == base64.b64encode(png).decode()
    r = run(env, "SEND_FILE_INFO", {"path": "/local/old/a.gcode"})
    assert r["event"] == "FILE_INFO" and "preview" not in r["body"]["data"], r
    assert run(env, "CREATE_FOLDER", {"path": "/local/new/deeper"})["event"] == "FINISHED"
    assert env.files.folder_exists("local", "new/deeper")
    assert run(env, "DELETE_FILE", {"path": "/local/b.gcode"})["event"] == "FINISHED"
    assert not env.files.file_exists("local", "b.gcode")
    r = run(env, "DELETE_FOLDER", {"path": "/local/old"})
    assert r["event"] in ("FAILED", "REJECTED") and env.files.file_exists("local", "old/a.gcode")
    assert run(env, "DELETE_FOLDER", {"path": "/local/old", "force": True})["event"] == "FINISHED"
    assert not env.files.folder_exists("local", "old")
    # A file added in OctoPrint reaches Connect as FILE_CHANGED.
    env.add_file("fresh.gcode")
    assert env.emulator.wait_event(env.fp, "FILE_CHANGED",
                                   pred=lambda e: "fresh.gcode" in str(e["body"]))
    # The file being printed is refused.
    run(env, "START_PRINT", {"path": "/local/fresh.gcode"})
    assert env.emulator.wait_state(env.fp, "PRINTING")
    r = run(env, "DELETE_FILE", {"path": "/local/fresh.gcode"})
    assert r["event"] in ("FAILED", "REJECTED"), r
    assert env.files.file_exists("local", "fresh.gcode")


def test_a_download_lands_in_octoprint_and_is_printed(online):
    env = online()
    h = f"h{uuid.uuid4().hex[:12]}"
    env.emulator.api("POST", "/api/files", {"team_id": 7, "hash": h, "size": 40000})
    r = run(env, "START_CONNECT_DOWNLOAD", {"path": "/local/dl/box.gcode", "team_id": 7,
                                            "hash": h, "printing": True})
    assert r["event"] == "TRANSFER_INFO", r
    assert env.emulator.wait_event(env.fp, "TRANSFER_FINISHED")
    assert wait_for(lambda: env.files.file_exists("local", "dl/box.gcode"))
    assert os.path.getsize(env.files.path_on_disk("local", "dl/box.gcode")) == 40000
    assert env.emulator.wait_state(env.fp, "PRINTING")


# ---------------------------------------------------------------- the world changes

def test_settings_apply_at_run_time(online):
    env = online()
    n = env.emulator.printer(env.fp)["telemetry_count"]
    env.set(idle_interval=0.05)
    env.bridge.settings_changed(["idle_interval"])
    assert wait_for(lambda: env.emulator.printer(env.fp)["telemetry_count"] >= n + 20)
    # Another printer type: a new Printer, without restarting anything.
    since = env.emulator.last_log_seq()
    env.set(printer_type="I3MK3S")
    env.bridge.settings_changed(["printer_type"])

    def types_sent():
        page = env.emulator.api("GET", f"/api/log?since={since}&limit=1000")
        return {e["headers"].get("User-Agent-Printer") for e in page["entries"]
                if e["path"] == "/p/telemetry" and e["headers"].get("Fingerprint") == env.fp}
    assert wait_for(lambda: "1.3.1" in types_sent()), types_sent()


def test_the_printer_disconnecting_and_reconnecting(online):
    env = online()
    env.printer.disconnect()
    e = env.emulator.wait_state(env.fp, "ERROR")
    assert e and "not connected" in e["body"]["reason"], e
    env.printer.connect()
    assert env.emulator.wait_event(env.fp, "STATE_CHANGED", pred=lambda x: x["state"] == "IDLE"
                                   and x["seq"] > e["seq"])
    idle = env.emulator.events(env.fp)[-1]["seq"]
    env.printer.simulate_error("Printer halted. kill() called!")
    e = env.emulator.wait_event(env.fp, "STATE_CHANGED", pred=lambda x: x["state"] == "ERROR"
                                and x["seq"] >= idle)
    assert e and "kill() called" in e["body"]["reason"], e


def test_a_connect_outage_loses_nothing(online):
    env = online()
    env.add_file("a.gcode")
    run(env, "START_PRINT", {"path": "/local/a.gcode"})
    assert env.emulator.wait_state(env.fp, "PRINTING")
    env.emulator.fault({"kind": "status", "status": 503, "path_prefix": "/p/",
                        "fingerprint": env.fp})
    try:
        before = len(env.emulator.events(env.fp))
        env.printer.set_progress(100)  # finishes during the outage
        assert wait_for(lambda: env.bridge.status()["state"] == "offline")
        assert "Connect answered HTTP 503" in env.bridge.status()["problem"]
        assert len(env.emulator.events(env.fp)) == before
    finally:
        env.emulator.clear_faults()
    assert env.emulator.wait_state(env.fp, "FINISHED", timeout=60)
    assert wait_for(lambda: env.bridge.status()["state"] == "registered", timeout=60)
