"""The SDK-shaped surface: constants, the Printer's attributes and errors,
JSON conversion, module-level conditions and a clean interpreter exit."""
import enum
import os
import subprocess
import sys
import textwrap

import pytest

from conftest import wait_for
import prusaconnect
from prusaconnect import Printer, _prusaconnect, const
from prusaconnect.conditions import (API, COND_TRACKER, Condition, ConditionTracker, CondState)

FP = "__fingerprint__"
SN = "SN001002XP003"

ENUMS = ["State", "JobState", "MMUType", "StorageType", "Event", "Source", "Command",
         "TransferType", "FileType", "RegistrationStatus"]


@pytest.mark.parametrize("name", ENUMS)
def test_enums_match_the_library(name):
    cls = getattr(const, name)
    assert issubclass(cls, enum.Enum)
    assert [m.name for m in cls] == _prusaconnect.enum_names(name)
    assert all(m.value == m.name for m in cls)


def test_camera_enums_and_printer_types():
    assert [m.value for m in const.CapabilityType] == _prusaconnect.enum_names("CapabilityType")
    assert [m.name for m in const.TriggerScheme] == _prusaconnect.enum_names("TriggerScheme")
    assert const.TriggerScheme.THIRTY_SEC.value == "Every 30 seconds"
    assert [[t.name, *t.value] for t in const.PrinterType] == _prusaconnect.printer_types()
    assert const.PrinterType.I3MK3.value == (1, 3, 0)
    assert str(const.PrinterType.I3MK3) == "1.3.0"
    assert str(const.PrinterType.HT90) == "6.1.0"
    assert const.State.READY.value == "READY"
    assert const.Command.START_PRINT.value == "START_PRINT"
    assert str(const.Command.DIALOG_ACTION) == "Command.DIALOG_ACTION"
    assert const.MMU_SLOT_COUNTS == {const.MMUType.MMU3: 5}
    assert const.PRIORITY_COMMANDS == {const.Command.RESET_PRINTER}
    assert issubclass(const.CameraNotFound, RuntimeError)


def test_scalar_constants():
    assert (const.TIMESTAMP_PRECISION, const.CONNECTION_TIMEOUT, const.CAMERA_WAIT_TIMEOUT,
            const.ONE_SECOND_TIMEOUT, const.CAMERA_BUSY_TIMEOUT) == (0.1, 10, 3, 1, 20)
    assert const.GCODE_EXTENSIONS == (".gcode", ".gc", ".g", ".gco")
    assert (const.FIRMWARE_EXTENSION, const.SL_EXTENSIONS) == (".hex", (".sl1",))
    assert (const.FILENAME_LENGTH, const.MAX_NAME_LENGTH) == (248, 255)
    assert const.FORBIDDEN_CHARACTERS == ('\\', '?', '"', '%', '¯', '°', '#', 'ˇ')
    assert prusaconnect.__version__ == "0.8.1"
    assert prusaconnect.models.CODE_TIMEOUT == 1800


def test_identity_is_set_once():
    printer = Printer(const.PrinterType.I3MK3S, SN, FP)
    assert (printer.type, printer.sn, printer.fingerprint) == (const.PrinterType.I3MK3S, SN, FP)
    assert printer.is_initialised()
    with pytest.raises(RuntimeError, match="Fingerprint is already set."):
        printer.fingerprint = "foo"
    with pytest.raises(RuntimeError, match="Printer type is already set."):
        printer.type = const.PrinterType.SL1
    bare = Printer()
    assert (bare.type, bare.sn, bare.fingerprint) == (None, None, None)
    assert not bare.is_initialised()
    bare.fingerprint = FP
    bare.sn = SN
    bare.type = const.PrinterType.SL1
    assert bare.is_initialised() and bare.type is const.PrinterType.SL1
    with pytest.raises(TypeError):
        Printer(42)


def test_attributes_and_get_info():
    printer = Printer(const.PrinterType.I3MK3S, SN, FP)
    assert (printer.state, printer.ready, printer.job_id) == (const.State.BUSY, False, None)
    assert (printer.server, printer.token, printer.code) == (None, None, None)
    assert (printer.firmware, printer.software, printer.api_key) == (None, None, None)
    assert printer.network_info == dict.fromkeys(
        ["lan_mac", "lan_ipv4", "lan_ipv6", "wifi_mac", "wifi_ipv4", "wifi_ipv6", "wifi_ssid",
         "hostname", "username", "digest"])
    printer.firmware = "3.14.1"
    printer.network_info["hostname"] = "prusa"
    printer.job_id = 5
    assert printer.job_id == 5
    printer.job_id = None
    info = printer.get_info()
    assert list(info)[:16] == ["source", "event", "state", "type", "version", "subversion",
                               "firmware", "sdk", "network_info", "api_key", "files", "sn",
                               "fingerprint", "mbl", "sheet_settings", "active_sheet"]
    assert (info["source"], info["event"], info["state"]) == (
        const.Source.CONNECT, const.Event.INFO, const.State.BUSY)
    assert (info["type"], info["version"], info["subversion"]) == (1, 3, 1)
    assert (info["firmware"], info["sdk"], info["sn"]) == ("3.14.1", "0.8.1", SN)
    assert info["network_info"]["hostname"] == "prusa"
    assert info["mmu"] == {"enabled": False}
    assert printer.connect_url("connect", True) == "https://connect"
    assert Printer.connect_url("connect", False, 8000) == "http://connect:8000"
    printer.set_connection("http://server:8000/", "tok")
    assert (printer.server, printer.token) == ("http://server:8000", "tok")


def test_mmu_as_the_sdk():
    assert Printer(const.PrinterType.I3MK3S, SN, FP).mmu_supported is True
    printer = Printer(const.PrinterType.I3MK3S, SN, FP, mmu_supported=False)
    assert printer.mmu_supported is False
    assert "mmu" not in printer.get_info()
    printer = Printer(const.PrinterType.I3MK3S, SN, FP)
    printer.mmu_enabled = True
    assert printer.get_info()["mmu"]["enabled"] is True
    printer.mmu_type = const.MMUType.MMU3
    assert printer.get_info()["slots"] == 5


def test_handler_registration():
    printer = Printer(const.PrinterType.I3MK3S, SN, FP)

    def gcode(caller):
        return {"source": const.Source.MARLIN}

    printer.set_handler(const.Command.GCODE, gcode)
    assert printer.command.handlers[const.Command.GCODE] is gcode

    @printer.handler(const.Command.START_PRINT)
    def start(caller):
        return {"source": const.Source.CONNECT}

    assert printer.command.handlers[const.Command.START_PRINT] is start
    assert const.Command.SEND_INFO in printer.command.handlers
    with pytest.raises(TypeError):
        printer.set_handler("GCODE", gcode)
    with pytest.raises(TypeError):
        printer.set_handler(const.Command.GCODE, None)
    del printer.command.handlers[const.Command.GCODE]
    assert printer.command.state is None and printer.command.command_id == -1
    printer.command()  # nothing accepted: does nothing


def test_standalone_conditions_as_the_sdk():
    grandma = Condition("Grandma", "")
    mom = Condition("Mom", "", parent=grandma, priority=1)
    me = Condition("Me", "", parent=mom, priority=2)
    tracker = ConditionTracker()
    tracker.add_tracked_condition_tree(grandma)
    calls = []
    me.add_broke_handler(lambda c, old: calls.append((c.name, old)))
    grandma.state = CondState.NOK
    assert (mom.state, me.state) == (CondState.NOK, CondState.NOK)
    assert calls == [("Me", CondState.UNKNOWN)]
    assert tracker.get_worst() is me
    me.state = CondState.OK
    assert mom.state is CondState.OK and grandma.state is CondState.OK
    with pytest.raises(ValueError):
        me.state = CondState.UNKNOWN


def run_python(code, timeout=60):
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=timeout, env=dict(os.environ))


def test_module_level_conditions_are_the_first_printers():
    r = run_python("""
        from prusaconnect import Printer, const
        from prusaconnect.conditions import API, TOKEN, COND_TRACKER, CondState
        assert TOKEN.state is CondState.UNKNOWN
        seen = []
        TOKEN.add_broke_handler(lambda c, old: seen.append((c.name, old)))
        first = Printer(const.PrinterType.I3MK3S, "SN", "fp")
        second = Printer(const.PrinterType.I3MK3S, "SN2", "fp2")
        second.set_connection("http://127.0.0.1:1", "")
        assert TOKEN.state is CondState.UNKNOWN
        first.set_connection("http://127.0.0.1:1", "")  # no token: TOKEN NOK
        assert TOKEN.state is CondState.NOK and API.state is CondState.NOK
        assert COND_TRACKER.get_worst() is TOKEN
        import time
        for _ in range(500):
            if seen: break
            time.sleep(0.01)
        assert seen == [("Token", CondState.UNKNOWN)], seen
        print("ok")
    """)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "ok"


def test_exit_while_python_callbacks_may_run(emulator):
    """Leaving the interpreter with a loop in a daemon thread, a background
    handler in Python and log records in flight exits cleanly."""
    sn, fp, token = emulator.add_printer()
    r = run_python(f"""
        import threading, time
        import prusaconnect
        from prusaconnect import Printer, const
        prusaconnect.set_log_level(10)
        p = Printer(const.PrinterType.I3MK3S, {sn!r}, {fp!r}, background_handlers=True)
        entered = threading.Event()
        @p.handler(const.Command.START_PRINT)
        def start(caller):
            entered.set()
            time.sleep(0.5)
            return {{"source": const.Source.CONNECT}}
        p.set_connection({emulator.url!r}, {token!r})
        threading.Thread(target=p.loop, daemon=True).start()
        p.telemetry(temp_bed=1.0)
        import urllib.request, json
        req = urllib.request.Request({emulator.url!r} + "/api/printers/{fp}/commands",
            data=json.dumps({{"command": "START_PRINT"}}).encode(), method="POST")
        urllib.request.urlopen(req).read()
        for _ in range(300):
            p.telemetry(temp_bed=1.0)
            if entered.wait(0.05): break
        assert entered.is_set()
        print("exiting", flush=True)
    """)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "exiting"


def test_telemetry_values_convert_as_json_does(emulator, make_printer):
    printer = make_printer()

    class Colour(enum.Enum):
        RED = "red"

    printer.telemetry(i=3, f=3.0, big=2**63, neg=-2**40, b=True, s="žluťoučký",
                      t=(1, 2), nested={"a": [None, {"b": None, "c": 1}]}, e=Colour.RED,
                      keys={1: "int", 2.5: "float", False: "bool", None: "none"},
                      state="ignored")
    fp = printer.fingerprint
    assert wait_for(lambda: emulator.printer(fp)["telemetry_count"] >= 1)
    assert emulator.printer(fp)["last_telemetry"] == {
        "i": 3, "f": 3.0, "big": 2**63, "neg": -2**40, "b": True, "s": "žluťoučký",
        "t": [1, 2], "nested": {"a": [{"c": 1}]}, "e": "red",
        "keys": {"1": "int", "2.5": "float", "false": "bool", "null": "none"}, "state": "BUSY"}
    with pytest.raises(TypeError, match="not JSON serializable"):
        printer.telemetry(x={1, 2})
    with pytest.raises(TypeError, match="keys must be"):
        printer.telemetry(x={(1, 2): 3})
    loop = []
    loop.append(loop)
    with pytest.raises(ValueError):
        printer.telemetry(x=loop)


def test_exit_with_daemon_threads_in_blocking_calls():
    """Daemon threads returning from GIL-releasing calls while the
    interpreter finalizes must not abort the process (they are parked)."""
    code = """
        import threading, time
        import prusaconnect
        prusaconnect.set_log_level(40)
        from prusaconnect import Printer, const
        printers = [Printer(const.PrinterType.I3MK3S, f"SN{i}", f"fp{i}") for i in range(3)]
        def spin(p):
            while True:
                if p.wait_for_command(0.001):
                    p.command()
                p.telemetry(x=1)
                p.flush(0.001)
        for p in printers:
            p.set_connection("http://127.0.0.1:9", "tok")
            p.start()
            threading.Thread(target=spin, args=(p,), daemon=True).start()
            threading.Thread(target=p.loop, daemon=True).start()
        time.sleep(0.2)
        print("bye")
    """
    for _ in range(5):
        r = run_python(code)
        assert (r.returncode, r.stdout.strip()) == (0, "bye"), r.stderr
        assert "terminate" not in r.stderr


def test_telemetry_timestamp_and_unsetting_mbl(emulator, make_printer):
    printer = make_printer()
    fp = printer.fingerprint
    printer.telemetry(timestamp=1699999990.27, temp_nozzle=20)
    assert wait_for(lambda: emulator.printer(fp)["telemetry_count"] >= 1)
    assert emulator.telemetry(fp)[-1]["timestamp"] == "1699999990.2"
    printer.mbl = [0.1, -0.2]
    printer.sheet_settings = [{"name": "Smooth", "z_offset": 0.05}]
    info = printer.get_info()
    assert info["mbl"] == [0.1, -0.2] and info["sheet_settings"]
    printer.mbl = None
    printer.sheet_settings = None
    info = printer.get_info()
    assert info.get("mbl") is None and info.get("sheet_settings") is None
