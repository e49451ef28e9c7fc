"""Scenarios against the emulator, mirroring tests/integration/printer_test.cc
through the Python bindings: registration, the command lifecycle, duplicates,
unknown commands, G-code, handler errors as the SDK reports them, events,
state, conditions, background handlers, loop()."""
import gc
import json
import os
import queue
import signal
import socket
import threading
import time
import weakref

import pytest

from conftest import WAIT, wait_for
from prusaconnect import CommandFailed, Printer, const
from prusaconnect.conditions import CondState


def body(event):
    return event["body"]


class Runner:
    """The host's command thread, as the SDK's README does it."""

    def __init__(self, printer):
        self.printer = printer
        self.done = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.done.is_set():
            if self.printer.wait_for_command(0.05):
                self.printer.command()

    def stop(self):
        self.done.set()
        self.thread.join(WAIT)


def send_command(emulator, printer, command, **kw):
    cid = emulator.queue(printer.fingerprint, command, **kw)
    printer.telemetry()  # the command rides on the answer to telemetry
    return cid


def run_command(emulator, printer, command, **kw):
    """Queues a command, waits for it to be accepted and runs its handler."""
    cid = send_command(emulator, printer, command, **kw)
    assert printer.wait_for_command(WAIT)
    assert printer.command.command_id == cid
    printer.command()
    return cid


# ---------------------------------------------------------------- registration


def test_registration_end_to_end(emulator):
    sn = f"SN-PY-REG-{os.getpid()}"
    fp = f"fp-{sn}"
    printer = Printer(const.PrinterType.I3MK3, sn, fp, register_poll_interval=0.1)
    printer.firmware = "3.14.1"
    printer.set_connection(emulator.url, None)
    assert printer.conditions.TOKEN.state is CondState.NOK
    tokens = queue.Queue()
    threads = []

    def register_handler(token):
        threads.append(threading.current_thread())
        tokens.put(token)

    printer.register_handler = register_handler
    code = printer.register()
    assert isinstance(code, str) and code
    assert printer.code == code
    assert printer.registration_status is const.RegistrationStatus.IN_PROGRESS
    pending = [c for c in emulator.codes() if c["code"] == code]
    assert pending and pending[0]["state"] == "pending"
    assert pending[0]["printer_type"] == "1.3.0"
    issued = emulator.approve(code)
    assert tokens.get(timeout=WAIT) == issued
    assert threads[0] is not threading.main_thread()
    assert printer.token == issued
    assert printer.code is None
    assert printer.registration_status is const.RegistrationStatus.FINISHED
    assert printer.conditions.TOKEN.state is CondState.OK

    printer.telemetry()
    assert wait_for(lambda: emulator.printer(fp)["telemetry_count"] >= 1)
    assert wait_for(lambda: printer.conditions.API.state is CondState.OK)
    info = emulator.printer(fp)
    assert (info["sn"], info["type"], info["firmware"]) == (sn, "1.3.0", "3.14.1")
    assert info["protocol_error_count"] == 0
    printer.stop()


def test_register_without_server_is_runtime_error():
    printer = Printer(const.PrinterType.I3MK3, "SN", "fp")
    with pytest.raises(RuntimeError, match="Server is not set"):
        printer.register()


def test_register_unreachable_is_connection_error():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    printer = Printer(const.PrinterType.I3MK3, "SN", "fp", request_timeout=5)
    printer.set_connection(f"http://127.0.0.1:{port}", None)
    with pytest.raises(ConnectionError, match="cannot reach Connect"):
        printer.register()
    assert printer.conditions.HTTP.state is CondState.NOK


def test_register_refused_is_runtime_error_with_the_answer(emulator):
    emulator.fault({"kind": "status", "status": 400, "path": "/p/register",
                    "body": "no mac address", "count": 1})
    try:
        printer = Printer(const.PrinterType.I3MK3, "SN-REFUSED", "fp-refused")
        printer.set_connection(emulator.url, None)
        with pytest.raises(RuntimeError, match="no mac address"):
            printer.register()
        assert printer.conditions.API.state is CondState.NOK
        assert printer.conditions.HTTP.state is CondState.OK
    finally:
        emulator.clear_faults()


# ---------------------------------------------------------------- commands


def test_telemetry_command_handler_events(emulator, make_printer):
    printer = make_printer()
    fp = printer.fingerprint
    seen = []

    @printer.handler(const.Command.GCODE)
    def gcode(caller):
        seen.append((caller.command_id, caller.command_name, caller.args,
                     caller.kwargs, caller.force, threading.current_thread()))
        return {"source": const.Source.MARLIN}

    runner = Runner(printer)
    try:
        printer.telemetry(temp_nozzle=215.5, target_nozzle=215, custom="x", fan=None)
        assert wait_for(lambda: emulator.printer(fp)["telemetry_count"] >= 1)
        assert emulator.printer(fp)["last_telemetry"] == {
            "temp_nozzle": 215.5, "target_nozzle": 215, "custom": "x", "state": "BUSY"}
        assert list(emulator.printer(fp)["last_telemetry"]) == [
            "temp_nozzle", "target_nozzle", "custom", "state"]

        cid = send_command(emulator, printer, "SEND_INFO")
        info = emulator.wait_event(fp, "INFO", cid)
        assert info is not None
        assert body(info)["data"]["sn"] == printer.sn
        assert body(info)["source"] == "CONNECT"
        assert [e["event"] for e in emulator.events(fp)] == ["ACCEPTED", "INFO"]

        gid = emulator.queue_gcode(fp, "G28 X", force=True)
        printer.telemetry()
        finished = emulator.wait_event(fp, "FINISHED", gid)
        assert finished is not None and finished["source"] == "MARLIN"
        assert seen[0][:5] == (gid, "GCODE", ["G28 X"], {"gcode": "G28 X"}, True)
        assert seen[0][5] is runner.thread
    finally:
        runner.stop()
    assert emulator.printer(fp)["protocol_error_count"] == 0


def test_duplicates_and_another_command_running(emulator, make_printer):
    printer = make_printer()
    fp = printer.fingerprint
    release = threading.Event()
    entered = threading.Event()

    @printer.handler(const.Command.START_PRINT)
    def start_print(caller):
        entered.set()
        assert release.wait(WAIT)
        return {"source": const.Source.CONNECT}

    cid = send_command(emulator, printer, "START_PRINT", kwargs={"path": "/usb/a.gcode"})
    assert emulator.wait_event(fp, "ACCEPTED", cid)
    assert printer.wait_for_command(WAIT)
    assert printer.command.state is const.Event.ACCEPTED
    assert printer.command.last_state is const.Event.ACCEPTED
    assert printer.command.kwargs == {"path": "/usb/a.gcode"}
    worker = threading.Thread(target=printer.command)
    worker.start()
    assert entered.wait(WAIT)
    # While it runs: telemetry carries its id, a new id is refused, the same
    # id is answered ACCEPTED again.
    printer.telemetry(progress=1)
    assert wait_for(lambda: emulator.printer(fp)["last_telemetry_command_id"] == cid)
    other = send_command(emulator, printer, "SEND_INFO")
    rejected = emulator.wait_event(fp, "REJECTED", other)
    assert rejected is not None
    assert body(rejected)["reason"] == "Another command is running"
    assert body(rejected)["data"] == {"actual_command_id": cid}
    send_command(emulator, printer, "START_PRINT", command_id=cid)
    assert wait_for(lambda: len(emulator.events(fp, "ACCEPTED")) == 2)
    release.set()
    worker.join(WAIT)
    assert emulator.wait_event(fp, "FINISHED", cid)
    assert printer.command.state is None
    assert printer.command.last_state is const.Event.FINISHED
    # A finished command sent again is answered with how it ended.
    send_command(emulator, printer, "START_PRINT", command_id=cid)
    assert wait_for(lambda: len(emulator.events(fp, "FINISHED")) == 2)


def test_unknown_and_not_implemented_commands(emulator, make_printer):
    printer = make_printer()
    fp = printer.fingerprint
    cid = run_command(emulator, printer, "STANDUP")
    rejected = emulator.wait_event(fp, "REJECTED", cid)
    assert (rejected["source"], body(rejected)["reason"]) == ("WUI", "Unknown command")
    cid = run_command(emulator, printer, "START_PRINT")
    rejected = emulator.wait_event(fp, "REJECTED", cid)
    assert (rejected["source"], body(rejected)["reason"]) == ("WUI", "Not Implemented")
    assert [e["event"] for e in emulator.events(fp)] == [
        "ACCEPTED", "REJECTED", "ACCEPTED", "REJECTED"]


def failed_error(emulator, printer, command="START_PRINT", **kw):
    cid = run_command(emulator, printer, command, **kw)
    failed = emulator.wait_event(printer.fingerprint, "FAILED", cid)
    assert failed is not None
    assert failed["source"] == "WUI"
    assert body(failed)["reason"] == "Command error"
    assert list(body(failed)["data"]) == ["error"]
    return body(failed)["data"]["error"]


@pytest.mark.parametrize("result, error", [
    (ValueError("x"), "ValueError('x')"),
    (CommandFailed("Not current transfer."), "CommandFailed('Not current transfer.')"),
    ({"source": const.Source.CONNECT, "command_id": 5},
     "TypeError(\"prusaconnect.command.Command.finish() got multiple values for keyword "
     "argument 'command_id'\")"),
    (None, "TypeError('prusaconnect.command.Command.finish() argument after ** must be a "
     "mapping, not NoneType')"),
    ({}, "TypeError(\"Command.finish() missing 1 required positional argument: 'source'\")"),
    ({"source": const.Source.CONNECT, "blob": object()},
     "TypeError('Object of type object is not JSON serializable')"),
    ({"source": "nonsense"},
     "TypeError(\"source must be a const.Source, not 'nonsense'\")"),
])
def test_handler_errors_fail_the_command_as_the_sdk(emulator, make_printer, result, error):
    printer = make_printer()

    @printer.handler(const.Command.START_PRINT)
    def handler(caller):
        if isinstance(result, Exception):
            raise result
        return result

    assert failed_error(emulator, printer) == error


def test_handler_result_with_event_and_fields(emulator, make_printer):
    printer = make_printer()
    fp = printer.fingerprint

    @printer.handler(const.Command.SEND_JOB_INFO)
    def job_info(caller):
        return {"source": const.Source.MARLIN, "event": const.Event.JOB_INFO,
                "job_id": 7, "reason": "because", "state": const.State.PRINTING,
                "path": "/usb/a.gcode", "none": None, "nested": {"a": [1, None, 2.5]}}

    cid = run_command(emulator, printer, "SEND_JOB_INFO")
    event = emulator.wait_event(fp, "JOB_INFO", cid)
    assert body(event) == {
        "event": "JOB_INFO", "source": "MARLIN",
        "data": {"path": "/usb/a.gcode", "nested": {"a": [1, 2.5]}},
        "command_id": cid, "job_id": 7, "reason": "because", "state": "PRINTING"}


def test_builtin_handlers_answer_as_the_sdk(emulator, make_printer):
    printer = make_printer()
    fp = printer.fingerprint
    cid = run_command(emulator, printer, "SET_PRINTER_READY")
    assert emulator.wait_event(fp, "FINISHED", cid)
    assert printer.state is const.State.READY and printer.ready
    changed = emulator.events(fp, "STATE_CHANGED")[-1]
    assert (changed["command_id"], changed["state"]) == (None, "READY")

    cid = run_command(emulator, printer, "CANCEL_PRINTER_READY")
    assert emulator.wait_event(fp, "FINISHED", cid)
    assert printer.state is const.State.IDLE and not printer.ready
    assert failed_error(emulator, printer, "CANCEL_PRINTER_READY") == \
        "ValueError(\"Can't cancel, printer isn't ready\")"
    assert failed_error(emulator, printer, "DIALOG_ACTION") == \
        "ValueError('Command.DIALOG_ACTION requires kwargs')"
    cid = run_command(emulator, printer, "DIALOG_ACTION", kwargs={"dialog_id": 7, "button": "ok"})
    assert emulator.wait_event(fp, "FINISHED", cid)
    printer.set_state(const.State.PRINTING, const.Source.MARLIN)
    assert failed_error(emulator, printer, "SET_PRINTER_READY") == \
        "ValueError(\"Can't set ready while PRINTING\")"

    cid = run_command(emulator, printer, "SEND_STATE_INFO")
    state_info = emulator.wait_event(fp, "STATE_CHANGED", cid)
    assert state_info["state"] == "PRINTING"


def test_overriding_and_restoring_send_info(emulator, make_printer):
    printer = make_printer()
    fp = printer.fingerprint
    printer.network_info["lan_ipv4"] = "192.168.1.5"
    printer.mbl = [0.1, -0.2]
    printer.sheet_settings = [{"name": "Smooth", "z_offset": -0.5}]
    printer.active_sheet = 0
    printer.mmu_enabled = True
    printer.mmu_type = const.MMUType.MMU3
    printer.mmu_fw = "3.0.2"
    printer.api_key = "key"

    def info(caller):
        data = printer.send_info(caller)
        data["extra"] = "yes"
        return data

    printer.set_handler(const.Command.SEND_INFO, info)
    cid = run_command(emulator, printer, "SEND_INFO")
    data = body(emulator.wait_event(fp, "INFO", cid))["data"]
    assert data["extra"] == "yes"
    expected = {"network_info": {"lan_ipv4": "192.168.1.5"}, "mbl": [0.1, -0.2],
                "sheet_settings": [{"name": "Smooth", "z_offset": -0.5}], "active_sheet": 0,
                "mmu": {"enabled": True, "version": "3.0.2"}, "slots": 5, "api_key": "key",
                "sdk": "0.8.1", "type": 1, "version": 3, "subversion": 1}
    assert {k: data[k] for k in expected} == expected
    printer.set_handler(const.Command.SEND_INFO, printer.send_info)  # the library's again
    cid = run_command(emulator, printer, "SEND_INFO")
    data = body(emulator.wait_event(fp, "INFO", cid))["data"]
    assert "extra" not in data and data["network_info"] == {"lan_ipv4": "192.168.1.5"}


def test_asynchronous_completion(emulator, make_printer, caplog):
    printer = make_printer()
    fp = printer.fingerprint
    printer.set_handler(const.Command.START_PRINT, lambda caller: {"source": const.Source.CONNECT})
    cid = send_command(emulator, printer, "START_PRINT")
    assert printer.wait_for_command(WAIT)
    assert printer.command.state is const.Event.ACCEPTED
    printer.command.finish(const.Source.MARLIN, job_id=12, note="done")
    finished = emulator.wait_event(fp, "FINISHED", cid)
    assert (finished["source"], body(finished)["job_id"], body(finished)["data"]) == \
        ("MARLIN", 12, {"note": "done"})
    assert printer.command.state is None
    printer.command()  # nothing pending: returns at once

    cid = send_command(emulator, printer, "START_PRINT")
    assert printer.wait_for_command(WAIT)
    printer.command.failed(const.Source.FIRMWARE, "jammed")
    failed = emulator.wait_event(fp, "FAILED", cid)
    assert (failed["source"], body(failed)["reason"]) == ("FIRMWARE", "jammed")

    cid = send_command(emulator, printer, "START_PRINT")
    assert printer.wait_for_command(WAIT)
    printer.command.reject(const.Source.HW, "door open")
    rejected = emulator.wait_event(fp, "REJECTED", cid)
    assert (rejected["source"], body(rejected)["reason"]) == ("HW", "door open")
    with caplog.at_level("WARNING", logger="connect-printer"):
        printer.command.finish(const.Source.MARLIN)  # nothing runs: logged, not sent
    assert "no such command" in caplog.text


def test_keyboard_interrupt_in_a_handler_propagates(emulator, make_printer):
    printer = make_printer()

    @printer.handler(const.Command.START_PRINT)
    def interrupted(caller):
        raise KeyboardInterrupt

    cid = send_command(emulator, printer, "START_PRINT")
    assert printer.wait_for_command(WAIT)
    with pytest.raises(KeyboardInterrupt):
        printer.command()
    failed = emulator.wait_event(printer.fingerprint, "FAILED", cid)
    assert body(failed)["data"]["error"] == "KeyboardInterrupt()"


def test_background_handlers(emulator, make_printer):
    printer = make_printer(background_handlers=True)
    fp = printer.fingerprint
    release = threading.Event()
    ran_on = []

    @printer.handler(const.Command.START_PRINT)
    def start_print(caller):
        ran_on.append(threading.current_thread())
        assert release.wait(WAIT)
        printer.set_state(const.State.PRINTING, const.Source.CONNECT)
        return {"source": const.Source.CONNECT}

    cid = send_command(emulator, printer, "START_PRINT", kwargs={"path": "/usb/a.gcode"})
    assert wait_for(lambda: ran_on)
    printer.telemetry(progress=1)
    assert wait_for(lambda: emulator.printer(fp)["last_telemetry_command_id"] == cid)
    release.set()
    assert emulator.wait_event(fp, "FINISHED", cid)
    assert ran_on[0] is not threading.main_thread()
    assert printer.state is const.State.PRINTING


# ---------------------------------------------------------------- events, state


def test_events_and_state(emulator, make_printer):
    printer = make_printer()
    fp = printer.fingerprint
    printer.event_cb(const.Event.MEDIUM_INSERTED, const.Source.WUI, reason="r",
                     job_id=3, dialog_id=4, root="/usb", none=None, command_id=0)
    printer.set_state(const.State.ATTENTION, const.Source.WUI)
    printer.set_state(const.State.IDLE, const.Source.HW, ready=True)
    assert printer.ready and printer.state is const.State.IDLE
    printer.set_state(const.State.PRINTING, const.Source.SERIAL)
    assert not printer.ready
    printer.job_id = 44
    printer.set_state(const.State.FINISHED, const.Source.FIRMWARE, reason="done")
    printer.event_cb(const.Event.JOB_INFO, const.Source.USER, timestamp=24, state=const.State.IDLE)
    assert emulator.wait_events(fp, 6)
    events = emulator.events(fp)
    assert body(events[0]) == {"event": "MEDIUM_INSERTED", "source": "WUI",
                               "data": {"root": "/usb"}, "job_id": 3, "reason": "r",
                               "dialog_id": 4, "state": "BUSY"}
    assert list(body(events[0])) == ["event", "source", "data", "job_id", "reason",
                                     "dialog_id", "state"]
    assert [(e["event"], e["source"], e["state"]) for e in events[1:5]] == [
        ("STATE_CHANGED", "WUI", "ATTENTION"), ("STATE_CHANGED", "HW", "IDLE"),
        ("STATE_CHANGED", "SERIAL", "PRINTING"), ("STATE_CHANGED", "FIRMWARE", "FINISHED")]
    assert body(events[4])["job_id"] == 44 and body(events[4])["reason"] == "done"
    assert (events[5]["state"], events[5]["timestamp"]) == ("IDLE", "24.0")
    with pytest.raises(TypeError):
        printer.set_state(const.State.IDLE, const.Source.HW, state=const.State.BUSY)
    with pytest.raises(TypeError):
        printer.event_cb("NOT_AN_EVENT", const.Source.WUI)
    with pytest.raises(TypeError):
        printer.telemetry(blob=object())


def test_no_token_drops_events_and_telemetry(emulator):
    printer = Printer(const.PrinterType.I3MK3S, "SN-NOTOKEN", "fp-notoken")
    printer.event_cb(const.Event.INFO, const.Source.WUI)
    printer.telemetry(temp_bed=1)
    stats = printer.stats()
    assert stats["events_queued"] == 0 and stats["telemetry_queued"] == 0


def test_uninitialised_printer_sends_state_only(emulator):
    sn, fp, token = emulator.add_printer()
    printer = Printer(const.PrinterType.I3MK3S, None, fp)  # no serial number
    assert not printer.is_initialised()
    printer.set_connection(emulator.url, token)
    printer.start()
    try:
        printer.telemetry(temp_bed=1, temp_nozzle=2)
        assert wait_for(lambda: emulator.printer(fp)["telemetry_count"] >= 1)
        assert emulator.printer(fp)["last_telemetry"] == {"state": "BUSY"}
        printer.sn = sn
        assert printer.is_initialised()
        with pytest.raises(RuntimeError, match="Serial number is already set."):
            printer.sn = "other"
    finally:
        printer.stop()


# ---------------------------------------------------------------- conditions


def test_revoked_token_breaks_token_condition_and_calls_handlers(emulator, make_printer):
    printer = make_printer()
    calls = queue.Queue()

    def broke(condition, old_state):
        calls.put((condition.name, old_state, threading.current_thread()))

    printer.conditions.TOKEN.add_broke_handler(broke)
    with pytest.raises(ValueError):
        printer.conditions.TOKEN.add_broke_handler(broke)
    printer.set_connection(emulator.url, "not-the-token")
    printer.telemetry()
    name, old, thread = calls.get(timeout=WAIT)
    assert name == printer.conditions.TOKEN.name
    assert thread is not threading.main_thread()
    assert wait_for(lambda: printer.conditions.TOKEN.state is CondState.NOK)
    assert printer.conditions.API.state is CondState.NOK
    assert printer.conditions.tracker.get_worst() is printer.conditions.TOKEN
    assert not printer.conditions.TOKEN
    assert str(printer.conditions.API) == "API: NOK"


# ---------------------------------------------------------------- running


def test_sdk_style_loop_stops_on_stop_loop(emulator, make_printer):
    printer = make_printer(start=False)
    thread = threading.Thread(target=printer.loop)
    thread.start()
    assert wait_for(lambda: printer.running_loop)
    printer.event_cb(const.Event.INFO, const.Source.WUI)
    assert emulator.wait_events(printer.fingerprint, 1)
    printer.stop_loop()
    thread.join(WAIT)
    assert not thread.is_alive()
    assert not printer.running_loop


def test_ctrl_c_interrupts_loop_in_the_main_thread(make_printer):
    printer = make_printer(start=False)
    timer = threading.Timer(0.3, lambda: os.kill(os.getpid(), signal.SIGINT))
    timer.start()
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        printer.loop()
    assert time.monotonic() - started < 5
    assert not printer.running_loop


def test_printer_with_handlers_is_garbage_collected(emulator):
    printer = Printer(const.PrinterType.I3MK3S, "SN-GC", "fp-gc")
    printer.set_handler(const.Command.START_PRINT,
                        lambda caller: printer.set_state(const.State.PRINTING,
                                                         const.Source.CONNECT))
    printer.register_handler = lambda token: printer.sn
    ref = weakref.ref(printer)
    del printer
    gc.collect()
    assert ref() is None


def test_connection_from_config(tmp_path):
    printer = Printer(const.PrinterType.I3MK3S, "SN", "fp")
    ini = tmp_path / "prusa_printer_settings.ini"
    ini.write_text("[service::connect]\nhostname = server\ntls = False\nport = 8000\n"
                   "token = a44b552a12d96d3155cb\n")
    printer.connection_from_config(str(ini))
    assert printer.server == "http://server:8000"
    assert printer.token == "a44b552a12d96d3155cb"
    with pytest.raises(FileNotFoundError, match="doesn't exist"):
        printer.connection_from_config(str(tmp_path / "missing.ini"))
    ini.write_text("[service::connect]\nhostname = server\n")
    with pytest.raises(KeyError):
        printer.connection_from_config(str(ini))
    ini.write_text("[service::connect]\nhostname = server\ntls = maybe\ntoken = t\n")
    with pytest.raises(ValueError):
        printer.connection_from_config(str(ini))


def test_library_logs_reach_python_logging(emulator, caplog):
    import prusaconnect
    prusaconnect.set_log_level(10)
    try:
        with caplog.at_level("DEBUG", logger="connect-printer"):
            printer = Printer(const.PrinterType.I3MK3S, "SN-LOG", "fp-log")
            printer.event_cb(const.Event.INFO, const.Source.WUI)  # no token: logged
            assert wait_for(lambda: any("not queued" in r.getMessage() for r in caplog.records))
        record = next(r for r in caplog.records if "not queued" in r.getMessage())
        assert record.name.startswith("connect-printer.")
        assert record.levelname == "DEBUG"
    finally:
        prusaconnect.set_log_level(20)


def test_network_thread_never_needs_the_gil(emulator, make_printer):
    """Events are delivered while a Python thread holds the GIL without a
    break (a long C-level loop): the network thread does not wait for it."""
    printer = make_printer()
    fp = printer.fingerprint
    printer.event_cb(const.Event.INFO, const.Source.WUI, n=0)
    assert emulator.wait_events(fp, 1)
    probe = time.perf_counter()
    sum(range(5_000_000))
    n_for_600ms = int(5_000_000 * 0.6 / max(time.perf_counter() - probe, 1e-4))
    for n in range(1, 4):
        printer.event_cb(const.Event.INFO, const.Source.WUI, n=n)
    start = time.time()
    sum(range(n_for_600ms))  # holds the GIL for the whole call
    end = time.time()
    assert end - start > 0.2, "the GIL was not held long enough to tell"
    events = emulator.events(fp)
    assert len(events) == 4
    for e in events[1:]:
        assert e["received"] < end, "delivered only after the GIL was released"
