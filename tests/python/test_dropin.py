"""Issue #17: SDK programs run unchanged. Each test makes the calls the
reference SDK (prusa-connect-sdk-printer 0.8.1) documents and asserts what
the SDK does (../shared/reference/sdk-spec.md), against the emulator."""
import os
import threading

import pytest

from conftest import WAIT, wait_for
from prusaconnect import Printer, const
from test_scenarios import Runner, body, send_command


def test_inotify_handler_exists_is_cheap_and_delivers_pending_changes(emulator, make_printer,
                                                                      tmp_path):
    # The SDK's README loop calls printer.inotify_handler() every turn.
    printer = make_printer()
    fp = printer.fingerprint
    printer.attach(str(tmp_path), "local")
    printer.inotify_handler()  # nothing pending
    for i in range(20):
        (tmp_path / f"f{i}.gcode").write_text("G28\n")
        printer.inotify_handler()
        # Delivered when it returns, whoever read the kernel's event first.
        assert printer.fs.get(f"/local/f{i}.gcode") is not None, i
    assert wait_for(lambda: len([e for e in emulator.events(fp)
                                 if e["event"] == "FILE_CHANGED"]) >= 20)

    # From many threads at any rate, while files change.
    stop = threading.Event()
    errors = []

    def spin():
        try:
            while not stop.is_set():
                printer.inotify_handler()
        except Exception as err:  # pylint: disable=broad-except
            errors.append(err)
    threads = [threading.Thread(target=spin) for _ in range(4)]
    for t in threads:
        t.start()
    for i in range(50):
        (tmp_path / f"g{i}.gcode").write_text("G1\n")
    printer.inotify_handler()
    stop.set()
    for t in threads:
        t.join(WAIT)
    assert errors == []
    assert all(printer.fs.get(f"/local/g{i}.gcode") is not None for i in range(50))


def test_a_command_without_args_gives_none_as_the_sdk(emulator, make_printer):
    # SDK: accept(args=data.get("args"), kwargs=data.get("kwargs")).
    printer = make_printer()
    fp = printer.fingerprint
    seen = []

    @printer.handler(const.Command.START_PRINT)
    def start(caller):
        seen.append((caller.args, caller.kwargs))
        return {"source": const.Source.MARLIN, "args": caller.args}

    runner = Runner(printer)
    try:
        cid = send_command(emulator, printer, "START_PRINT", kwargs={"path": "/local/a.gcode"})
        finished = emulator.wait_event(fp, "FINISHED", cid)
        assert finished is not None
        assert seen[0] == (None, {"path": "/local/a.gcode"})
        # A handler echoing caller.args sends no "args" key (None is dropped).
        assert "args" not in body(finished)["data"], body(finished)

        cid = send_command(emulator, printer, "START_PRINT")
        assert emulator.wait_event(fp, "FINISHED", cid) is not None
        assert seen[1] == (None, None)

        cid = send_command(emulator, printer, "START_PRINT", args=["x"], kwargs={})
        finished = emulator.wait_event(fp, "FINISHED", cid)
        assert seen[2] == (["x"], {})
        assert body(finished)["data"]["args"] == ["x"]
    finally:
        runner.stop()


def test_event_cb_with_state_none_sends_no_state(emulator, make_printer):
    # SDK §4.1: the printer's state is added only when "state" is not among
    # the keywords; state=None is among them, and None is filtered out.
    printer = make_printer()
    fp = printer.fingerprint
    printer.event_cb(const.Event.INFO, const.Source.WUI)
    printer.event_cb(const.Event.INFO, const.Source.WUI, state=None)
    printer.event_cb(const.Event.INFO, const.Source.WUI, state=const.State.IDLE)
    assert emulator.wait_events(fp, 3)
    events = [body(e) for e in emulator.events(fp)]
    assert events[0] == {"event": "INFO", "source": "WUI", "data": {}, "state": "BUSY"}
    assert events[1] == {"event": "INFO", "source": "WUI", "data": {}}
    assert events[2]["state"] == "IDLE"


def test_register_refused_raises_runtime_error_with_exactly_the_answer(emulator):
    emulator.fault({"kind": "status", "status": 400, "path": "/p/register",
                    "body": "Printer with this SN is already registered", "count": 1})
    try:
        printer = Printer(const.PrinterType.I3MK3, f"SN-400-{os.getpid()}", "fp-400")
        printer.set_connection(emulator.url, None)
        with pytest.raises(RuntimeError) as err:
            printer.register()
        assert str(err.value) == "Printer with this SN is already registered"
    finally:
        emulator.clear_faults()


def test_code_is_kept_after_connect_answers_410(emulator):
    # SDK §1.5: polling stops on any answer but 200/202; printer.code stays.
    printer = Printer(const.PrinterType.I3MK3, f"SN-410-{os.getpid()}", "fp-410",
                      register_poll_interval=0.05)
    printer.set_connection(emulator.url, None)
    emulator.fault({"kind": "status", "status": 410, "path": "/p/register", "method": "GET",
                    "count": 1, "body": "gone"})
    try:
        printer.start()
        code = printer.register()
        assert wait_for(lambda: printer.registration_status
                        is const.RegistrationStatus.NO_REGISTRATION)
        assert printer.code == code  # a host can still show "code expired: <code>"
        assert printer.token is None
    finally:
        emulator.clear_faults()
        printer.stop()


# ---------------------------------------------------------------- the audit of the surface

def test_package_exports_what_sdk_programs_import():
    import prusaconnect
    from prusaconnect import (API, HTTP, INTERNET, MMU_SLOT_COUNTS, TOKEN, CondState,  # noqa
                              DownloadMgr, Filesystem, Sheet, Transfer,
                              default_register_handler, get_timestamp)
    assert set(prusaconnect.__all__) >= {"Printer", "CondState", "DownloadMgr", "Filesystem"}
    from prusaconnect.download import (DOWNLOAD_TYPES, FilenameTooLongError,  # noqa
                                       FoldernameTooLongError, ForbiddenCharactersError,
                                       filename_too_long, foldername_too_long,
                                       forbidden_characters, generate_transfer_id)
    assert forbidden_characters("a#b.gcode") and not forbidden_characters("ab.gcode")
    assert filename_too_long("x" * 249) and not filename_too_long("x" * 248)
    assert foldername_too_long("/usb/" + "d" * 256 + "/a.gcode")
    assert 0 <= generate_transfer_id() < 2**32
    assert const.TransferType.FROM_CONNECT in DOWNLOAD_TYPES


def test_download_name_errors_are_the_sdks_classes(make_printer, tmp_path):
    from prusaconnect.download import FilenameTooLongError, ForbiddenCharactersError
    printer = make_printer()
    printer.attach(str(tmp_path), "usb")
    with pytest.raises(ForbiddenCharactersError):
        printer.download_mgr.start(const.TransferType.FROM_WEB, "/usb/a#.gcode",
                                   "http://127.0.0.1:9/x.gcode")
    with pytest.raises(FilenameTooLongError):
        printer.download_mgr.start(const.TransferType.FROM_WEB, "/usb/" + "n" * 250 + ".gcode",
                                   "http://127.0.0.1:9/x.gcode")
    with pytest.raises(ValueError):  # and still ValueErrors, as before
        printer.download_mgr.start(const.TransferType.FROM_WEB, "/usb/a?.gcode",
                                   "http://127.0.0.1:9/x.gcode")
    assert list(tmp_path.iterdir()) == []


def test_storage_name_errors_are_invalid_storage_errors(make_printer, tmp_path):
    from prusaconnect.files import InvalidStorageError
    printer = make_printer()
    printer.attach(str(tmp_path), "usb")
    with pytest.raises(InvalidStorageError):
        printer.attach(str(tmp_path), "usb")
    with pytest.raises(FileExistsError):  # what it was before
        printer.attach(str(tmp_path), "usb")
    with pytest.raises(ValueError):
        printer.detach("nope")
    with pytest.raises(FileNotFoundError):
        printer.detach("nope")


def test_file_nodes_read_as_the_sdks(make_printer, tmp_path):
    printer = make_printer()
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.gcode").write_bytes(b"12345")
    (tmp_path / "a.gcode").write_bytes(b"123")
    printer.attach(str(tmp_path), "usb")
    root = printer.fs.get("usb/")  # the SDK strips the separators
    assert root is not None and root.path == "/usb"
    assert "sub" in root and "nope" not in root
    assert root["sub"]["b.gcode"].size == 5
    assert root.get(["sub", "b.gcode"]).parent is root["sub"]
    assert root.get(["sub", "nope"]) is None
    assert root["sub"].size == 5 and root.size == 8
    with pytest.raises(KeyError):
        root["nope"]  # pylint: disable=pointless-statement


def test_a_refused_mmu_value_leaves_the_printer_as_it_was(make_printer):
    printer = make_printer()
    printer.mmu_type = const.MMUType.MMU3
    with pytest.raises(TypeError):
        printer.mmu_type = "MMU9"
    assert printer.mmu_type is const.MMUType.MMU3
    printer.mmu_enabled = True  # still works
    printer.mmu_fw = "3.0.0"
    assert printer.get_info()["mmu"]["enabled"] is True


PRUSALINK_CONDITIONS = r'''
import time
from prusaconnect.conditions import (API, COND_TRACKER, INTERNET, CondState, Condition)
# What PrusaLink's conditions.py does at import.
ROOT_COND = Condition("Root", "The root of everything")
LAN = Condition("LAN", "No LAN", parent=ROOT_COND, priority=140)
INTERNET.set_parent(LAN)
COND_TRACKER.add_tracked_condition_tree(ROOT_COND)
COND_TRACKER.remove_tracked_condition_tree(INTERNET)
COND_TRACKER.add_tracked_condition_tree(INTERNET)
JOB = Condition("Job", "a child of the library's chain", parent=API)
assert INTERNET.parent is LAN and INTERNET in LAN.children and JOB in API.children
assert COND_TRACKER.get_worst() is None
from prusaconnect import Printer, const
printer = Printer(const.PrinterType.I3MK3, "SN-LINK", "FP-LINK")
printer.set_connection("http://127.0.0.1:9", "token")
LAN.state = CondState.NOK  # the application's LAN breaks: so does the chain
deadline = time.monotonic() + 30
while time.monotonic() < deadline and not (INTERNET.state is CondState.NOK
                                           and JOB.state is CondState.NOK):
    time.sleep(0.01)
assert INTERNET.state is CondState.NOK and JOB.state is CondState.NOK
assert COND_TRACKER.get_worst() is LAN
print("ok")
'''


def test_prusalinks_conditions_join_the_library_chain(tmp_path):
    # D1-D3 of the audit: INTERNET.set_parent(LAN), Condition(parent=API) and
    # COND_TRACKER.add_tracked_condition_tree() at import. A process of its
    # own: the module conditions belong to the first printer of a process.
    import subprocess
    import sys
    script = tmp_path / "prusalink_conditions.py"
    script.write_text(PRUSALINK_CONDITIONS)
    run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         timeout=60, env=dict(os.environ))
    assert run.returncode == 0 and run.stdout.strip() == "ok", run.stderr
