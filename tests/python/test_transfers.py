"""Downloads through the bindings against the emulator: START_CONNECT_DOWNLOAD,
STOP_TRANSFER and SEND_TRANSFER_INFO as Connect sends them, and the host's
``printer.download_mgr`` / ``printer.transfer`` / ``download_finished_cb``.

The emulator serves generated files (byte i is (i*31+7) & 0xff) at
/p/teams/{team}/files/{hash}/raw, optionally throttled, so a transfer can be
observed and stopped while it runs. Every wait is bounded."""
import itertools
import logging
import os
import threading

import pytest

from conftest import WAIT, wait_for
from prusaconnect import Printer, const
from prusaconnect.download import Transfer

pytestmark = pytest.mark.skipif(not hasattr(Printer, "start_url_download"), reason="no transfers")

TEAM = 7
_names = itertools.count(1)


def content(size):
    return bytes((i * 31 + 7) & 0xff for i in range(size))


def add_file(emulator, size, throttle=0):
    """A file Connect serves; returns its hash."""
    hash_ = f"py{os.getpid()}x{next(_names)}"
    body = {"team_id": TEAM, "hash": hash_, "size": size}
    if throttle:
        body["throttle_bytes_per_sec"] = throttle
    emulator.api("POST", "/api/files", body)
    return hash_


def file_url(emulator, hash_):
    return f"{emulator.url}/p/teams/{TEAM}/files/{hash_}/raw"


def run_command(emulator, printer, command, **kw):
    cid = emulator.queue(printer.fingerprint, command, **kw)
    printer.telemetry()
    assert printer.wait_for_command(WAIT)
    printer.command()
    return cid


def answer(emulator, printer, cid):
    """The terminal event of command `cid` (not ACCEPTED)."""
    def find():
        for e in emulator.events(printer.fingerprint):
            if e["command_id"] == cid and e["event"] != "ACCEPTED":
                return e
        return None
    return wait_for(find)


@pytest.fixture
def usb(tmp_path):
    root = tmp_path / "usb"
    root.mkdir()
    return root


def attached(make_printer, usb, **options):
    printer = make_printer(**options)
    printer.attach(str(usb), "usb")
    return printer


class Finished:
    """A download_finished_cb that records its calls and thread."""

    def __init__(self):
        self.calls = []
        self.threads = []
        self.event = threading.Event()

    def __call__(self, transfer):
        self.calls.append(transfer)
        # The OS name of the thread (the callback thread is not a Python one).
        with open(f"/proc/self/task/{threading.get_native_id()}/comm") as f:
            self.threads.append(f.read().strip())
        self.event.set()


def test_connect_download_command_calls_download_finished_cb(emulator, make_printer, usb):
    printer = attached(make_printer, usb)
    fp = printer.fingerprint
    finished = Finished()
    # Assigned after construction: takes effect (the SDK ignored it, Q27).
    printer.download_finished_cb = finished
    assert printer.download_mgr.download_finished_cb is finished
    hash_ = add_file(emulator, 300_000)

    cid = run_command(emulator, printer, "START_CONNECT_DOWNLOAD", kwargs={
        "team_id": TEAM, "hash": hash_, "path": "/usb/box.gcode", "printing": True})
    started = answer(emulator, printer, cid)
    assert started["event"] == "TRANSFER_INFO" and started["source"] == "CONNECT"
    body = started["body"]
    transfer_id = body["transfer_id"]
    assert transfer_id
    assert body["data"]["start_cmd_id"] == cid
    assert body["data"]["type"] == "FROM_CONNECT"
    assert body["data"]["path"] == "/usb/box.gcode"
    assert body["data"]["to_print"] is True

    done = emulator.wait_event(fp, "TRANSFER_FINISHED")
    assert done is not None
    assert done["body"]["transfer_id"] == transfer_id
    assert done["body"]["data"] == {"start_cmd_id": cid, "path": "/usb/box.gcode"}

    assert finished.event.wait(WAIT)
    (transfer,) = finished.calls
    assert finished.threads == ["pc-py-callback"]
    assert isinstance(transfer, Transfer)
    assert transfer.transfer_id == transfer_id
    assert transfer.type is const.TransferType.FROM_CONNECT
    assert (transfer.path, transfer.to_print, transfer.to_select) == ("/usb/box.gcode", True, False)
    assert transfer.hash == hash_ and transfer.team_id == TEAM
    assert transfer.start_cmd_id == cid
    assert transfer.size == transfer.transferred == 300_000
    assert transfer.progress == 100.0
    assert transfer.outcome is const.Event.TRANSFER_FINISHED
    assert transfer.os_path == str(usb / "box.gcode")
    assert transfer.in_progress is False

    assert (usb / "box.gcode").read_bytes() == content(300_000)
    assert [p.name for p in usb.iterdir()] == ["box.gcode"]  # no .part left
    # The live view once it is over: as the SDK, NO_TRANSFER.
    assert printer.transfer.in_progress is False
    assert printer.transfer.type is const.TransferType.NO_TRANSFER
    assert printer.transfer.transfer_id == transfer_id
    assert printer.transfer.outcome is const.Event.TRANSFER_FINISHED
    assert printer.download_mgr.info() == {"type": "NO_TRANSFER"}


def test_download_mgr_start_info_while_running_and_stop(emulator, make_printer, usb):
    printer = attached(make_printer, usb)
    fp = printer.fingerprint
    finished = Finished()
    printer.download_finished_cb = finished
    size = 32 << 20
    hash_ = add_file(emulator, size, throttle=512 * 1024)
    url = file_url(emulator, hash_)
    mgr = printer.download_mgr

    started = mgr.start(const.TransferType.FROM_WEB, "/usb/slow.gcode", url, to_select=True)
    assert started["event"] is const.Event.TRANSFER_INFO
    assert started["source"] is const.Source.WUI
    assert set(started) == {"transfer_id", "start_cmd_id", "type", "path", "url", "size",
                            "progress", "transferred", "time_remaining", "time_transferring",
                            "to_print", "event", "source"}
    assert started["type"] == "FROM_WEB" and started["path"] == "/usb/slow.gcode"
    assert started["url"] == url and started["to_print"] is False
    assert started["transferred"] == 0 and started["progress"] == 0.0
    assert started["start_cmd_id"] is None
    transfer_id = started["transfer_id"]

    transfer = printer.transfer
    assert mgr.transfer.transfer_id == transfer_id
    assert wait_for(lambda: transfer.transferred > 0)
    assert transfer.in_progress and transfer.type is const.TransferType.FROM_WEB
    assert transfer.to_select is True and transfer.to_print is False
    info = mgr.info()
    assert info["transfer_id"] == transfer_id and info["size"] == size
    assert 0 < info["transferred"] < size
    assert isinstance(info["progress"], float) and 0.0 < info["progress"] < 100.0
    assert isinstance(info["time_transferring"], int)
    assert transfer.size == size

    # Telemetry carries the transfer (added by the library, as the SDK).
    printer.telemetry(temp_nozzle=20)
    assert wait_for(lambda: (emulator.printer(fp)["last_telemetry"] or {}).get(
        "transfer_id") == transfer_id)
    last = emulator.printer(fp)["last_telemetry"]
    assert last["temp_nozzle"] == 20 and last["transfer_transferred"] > 0
    assert "transfer_progress" in last and "time_transferring" in last

    # A second one is refused as the SDK does, the first one goes on.
    again = mgr.start(const.TransferType.FROM_WEB, "/usb/other.gcode", url)
    assert again == {"event": const.Event.REJECTED, "source": const.Source.CONNECT,
                     "reason": "Another transfer in progress"}
    assert printer.transfer.transfer_id == transfer_id

    # Connect asks about it: the library answers with the running transfer.
    cid = run_command(emulator, printer, "SEND_TRANSFER_INFO")
    reply = answer(emulator, printer, cid)
    assert reply["event"] == "TRANSFER_INFO"
    assert reply["body"]["transfer_id"] == transfer_id
    assert reply["body"]["data"]["size"] == size

    mgr.stop()
    stopped = emulator.wait_event(fp, "TRANSFER_STOPPED")
    assert stopped is not None and stopped["body"]["transfer_id"] == transfer_id
    assert stopped["body"]["data"] == {"path": "/usb/slow.gcode"}
    assert wait_for(lambda: not printer.transfer.in_progress)
    assert printer.transfer.outcome is const.Event.TRANSFER_STOPPED
    assert printer.transfer.time_remaining() == 0
    assert list(usb.iterdir()) == []  # neither the file nor its .part
    assert finished.calls == []  # only finished downloads are reported
    mgr.stop()  # nothing runs: no error


def test_stop_transfer_command_midway(emulator, make_printer, usb):
    printer = attached(make_printer, usb)
    fp = printer.fingerprint
    hash_ = add_file(emulator, 32 << 20, throttle=512 * 1024)
    cid = run_command(emulator, printer, "START_CONNECT_DOWNLOAD", kwargs={
        "team_id": TEAM, "hash": hash_, "path": "/usb/stop.gcode"})
    transfer_id = answer(emulator, printer, cid)["body"]["transfer_id"]
    assert wait_for(lambda: printer.transfer.transferred > 0)

    wrong = run_command(emulator, printer, "STOP_TRANSFER", kwargs={"transfer_id": 12345})
    refused = answer(emulator, printer, wrong)
    assert refused["event"] == "FAILED" and "Wrong transfer_id" in refused["body"]["reason"]
    assert printer.transfer.in_progress

    stop = run_command(emulator, printer, "STOP_TRANSFER", kwargs={"transfer_id": transfer_id})
    assert answer(emulator, printer, stop)["event"] == "FINISHED"
    stopped = emulator.wait_event(fp, "TRANSFER_STOPPED")
    assert stopped is not None and stopped["body"]["transfer_id"] == transfer_id
    assert wait_for(lambda: not printer.transfer.in_progress)
    assert list(usb.iterdir()) == []


def test_download_mgr_refuses_bad_input_before_writing(emulator, make_printer, usb):
    printer = attached(make_printer, usb)
    mgr = printer.download_mgr
    url = file_url(emulator, add_file(emulator, 1000))
    web = const.TransferType.FROM_WEB
    with pytest.raises(ValueError):
        mgr.start(web, "usb/relative.gcode", url)
    with pytest.raises(ValueError):
        mgr.start(web, "/nosuchstorage/a.gcode", url)
    with pytest.raises(ValueError):
        mgr.start(web, "/usb/../escape.gcode", url)
    with pytest.raises(ValueError):
        mgr.start(web, "/usb/a.gcode", "ftp://127.0.0.1/a.gcode")
    with pytest.raises(ValueError):
        mgr.start(web, "/usb/a.gcode", None)  # the SDK allowed a transfer without URL
    with pytest.raises(ValueError):
        mgr.start(const.TransferType.FROM_CLIENT, "/usb/a.gcode", url)
    with pytest.raises(TypeError):
        mgr.start("SIDEWAYS", "/usb/a.gcode", url)
    # The file being printed cannot be the destination (asked with the GIL
    # from the thread that starts the download).
    printer.printed_file_cb = lambda: "/usb/printing.gcode"
    assert mgr.printed_file_cb() == "/usb/printing.gcode"
    with pytest.raises(RuntimeError):
        mgr.start(web, "/usb/printing.gcode", url)
    assert not printer.transfer.in_progress
    assert printer.transfer.transfer_id is None  # none ever started
    assert list(usb.iterdir()) == []


def test_transfer_options_reach_the_library(emulator, make_printer, usb):
    printer = attached(make_printer, usb, transfer_max_size=1000)
    fp = printer.fingerprint
    finished = Finished()
    printer.download_finished_cb = finished
    url = file_url(emulator, add_file(emulator, 5000))
    printer.download_mgr.start(const.TransferType.FROM_WEB, "/usb/big.gcode", url)
    aborted = emulator.wait_event(fp, "TRANSFER_ABORTED")
    assert aborted is not None and aborted["body"]["reason"]
    assert wait_for(lambda: not printer.transfer.in_progress)
    assert printer.transfer.outcome is const.Event.TRANSFER_ABORTED
    assert printer.transfer.reason
    assert list(usb.iterdir()) == []
    assert finished.calls == []


def test_throttle_is_a_rate_limit(make_printer):
    printer = make_printer(start=False, transfer_rate_limit=51200)
    mgr = printer.download_mgr
    assert mgr.rate_limit == 51200 and mgr.throttle == 2.0  # 100 KiB chunks
    mgr.throttle = 0.5
    assert mgr.rate_limit == 204800 and mgr.throttle == 0.5
    mgr.rate_limit = 0
    assert mgr.throttle == 0.0
    mgr.throttle = 0
    assert mgr.rate_limit == 0
    with pytest.raises(ValueError):
        mgr.throttle = -1


def test_wrapping_the_builtin_download_handler(emulator, make_printer, usb):
    printer = attached(make_printer, usb)
    fp = printer.fingerprint
    seen = []

    @printer.handler(const.Command.START_URL_DOWNLOAD)
    def wrapped(caller):
        seen.append(caller.kwargs["path"])
        return printer.start_url_download(caller)

    url = file_url(emulator, add_file(emulator, 2000))
    cid = run_command(emulator, printer, "START_URL_DOWNLOAD", kwargs={
        "path": "/usb/wrapped.gcode", "url": url, "selecting": True})
    reply = answer(emulator, printer, cid)
    assert reply["event"] == "TRANSFER_INFO" and reply["source"] == "CONNECT"
    assert reply["body"]["transfer_id"] and reply["body"]["data"]["path"] == "/usb/wrapped.gcode"
    assert seen == ["/usb/wrapped.gcode"]
    assert emulator.wait_event(fp, "TRANSFER_FINISHED") is not None
    assert (usb / "wrapped.gcode").read_bytes() == content(2000)

    # A missing kwarg through the Python handler: the SDK's text.
    cid = run_command(emulator, printer, "START_URL_DOWNLOAD", kwargs={"path": "/usb/x.gcode"})
    failed = answer(emulator, printer, cid)
    assert failed["event"] == "FAILED"
    assert "requires kwarg 'url'" in failed["body"]["data"]["error"]

    # Back to the library's own handler (it records start_cmd_id).
    printer.set_handler(const.Command.START_URL_DOWNLOAD, printer.start_url_download)
    assert wait_for(lambda: not printer.transfer.in_progress)
    cid = run_command(emulator, printer, "START_URL_DOWNLOAD", kwargs={
        "path": "/usb/native.gcode", "url": url})
    reply = answer(emulator, printer, cid)
    assert reply["event"] == "TRANSFER_INFO" and reply["body"]["data"]["start_cmd_id"] == cid
    assert seen == ["/usb/wrapped.gcode", "/usb/x.gcode"]
    assert printer.fs.wait_until_path("/usb/native.gcode", WAIT)


def test_download_finished_cb_errors_are_logged_and_none_disables_it(
        emulator, make_printer, usb, caplog):
    printer = attached(make_printer, usb)
    fp = printer.fingerprint
    calls = []
    raised = threading.Event()

    def broken(transfer):
        calls.append(transfer.path)
        raised.set()
        raise ValueError("host failure")

    printer.download_mgr.download_finished_cb = broken  # the same as printer's
    assert printer.download_finished_cb is broken
    url = file_url(emulator, add_file(emulator, 1000))
    with caplog.at_level(logging.ERROR, logger="connect-printer"):
        printer.download_mgr.start(const.TransferType.FROM_WEB, "/usb/one.gcode", url)
        assert raised.wait(WAIT)
        assert wait_for(lambda: "download_finished_cb failed" in caplog.text)
    assert calls == ["/usb/one.gcode"]

    printer.download_finished_cb = None
    assert wait_for(lambda: not printer.transfer.in_progress)
    printer.download_mgr.start(const.TransferType.FROM_WEB, "/usb/two.gcode", url)
    assert wait_for(lambda: len(emulator.events(fp, "TRANSFER_FINISHED")) == 2)
    assert calls == ["/usb/one.gcode"]
    with pytest.raises(TypeError):
        printer.download_finished_cb = "not callable"


def test_download_mgr_loop_returns_after_stop_loop(make_printer):
    printer = make_printer(start=False)
    mgr = printer.download_mgr
    thread = threading.Thread(target=mgr.loop, daemon=True)
    thread.start()
    assert wait_for(lambda: mgr.running_loop)
    mgr.stop_loop()
    thread.join(WAIT)
    assert not thread.is_alive() and not mgr.running_loop


def test_printer_collected_while_downloading(emulator, usb):
    """Dropping the last reference to a Printer mid-download ends the
    transfer (its thread is joined with the GIL released) and leaves
    nothing half-written behind."""
    import gc  # pylint: disable=import-outside-toplevel
    import weakref  # pylint: disable=import-outside-toplevel

    sn, fp, token = emulator.add_printer()
    printer = Printer(const.PrinterType.I3MK3S, sn, fp)
    printer.set_connection(emulator.url, token)
    printer.attach(str(usb), "usb")
    printer.printed_file_cb = lambda: None  # Python asked from the transfer's thread
    printer.download_finished_cb = lambda transfer: None
    url = file_url(emulator, add_file(emulator, 32 << 20, throttle=512 * 1024))
    printer.download_mgr.start(const.TransferType.FROM_WEB, "/usb/gone.gcode", url)
    assert wait_for(lambda: printer.transfer.transferred > 0)
    ref = weakref.ref(printer)
    del printer
    gc.collect()
    assert wait_for(lambda: ref() is None)
    assert wait_for(lambda: list(usb.iterdir()) == [])
