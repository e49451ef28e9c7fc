"""Storages through the bindings: Printer.attach/detach, printer.fs, and the
file commands against the emulator (SEND_INFO with an attached folder,
SEND_FILE_INFO, CREATE_FOLDER, DELETE_FILE, DELETE_FOLDER), as the SDK's
test_printer.py does them."""
import os
import shutil

import pytest

from conftest import WAIT, wait_for
from prusaconnect import Printer, const

pytestmark = pytest.mark.skipif(not hasattr(Printer, "attach"), reason="no files support")

HELLO = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data",
                     "gcode", "hello.gcode")


def body(event):
    return event["body"]


def run_command(emulator, printer, command, **kw):
    cid = emulator.queue(printer.fingerprint, command, **kw)
    printer.telemetry()
    assert printer.wait_for_command(WAIT)
    printer.command()
    return cid


@pytest.fixture
def folder(tmp_path):
    root = tmp_path / "storage"
    root.mkdir()
    shutil.copy(HELLO, root / "hello.gcode")
    (root / "test-file.hex").write_bytes(b"x")
    (root / "sub").mkdir()
    return root


def test_attach_send_info_and_file_commands(emulator, make_printer, folder):
    printer = make_printer()
    fp = printer.fingerprint
    printer.attach(str(folder), "test")
    inserted = emulator.wait_event(fp, "MEDIUM_INSERTED")
    assert inserted is not None and inserted["source"] == "WUI"
    assert printer.fs.storages == ["test"]

    cid = run_command(emulator, printer, "SEND_INFO")
    files = body(emulator.wait_event(fp, "INFO", cid))["data"]["files"]
    (storage,) = files["children"]
    assert "free_space" in storage and "total_space" in storage  # live figures
    (now,) = printer.fs.to_dict_legacy()["children"]
    for tree in (storage, now):
        del tree["free_space"]
    assert storage == now
    assert storage["name"] == "test" and storage["type"] == "DIR"
    assert sorted(c["name"] for c in storage["children"]) == [
        "hello.gcode", "sub", "test-file.hex"]

    cid = run_command(emulator, printer, "SEND_FILE_INFO", kwargs={"path": "/test/hello.gcode"})
    info = emulator.wait_event(fp, "FILE_INFO", cid)
    data = body(info)["data"]
    assert (info["source"], data["path"], data["size"]) == (
        "CONNECT", "/test/hello.gcode", os.path.getsize(HELLO))
    assert data["temperature"] == 250 and "m_timestamp" in data
    assert data["preview"].startswith("iVBOR")  # a PNG

    cid = run_command(emulator, printer, "CREATE_FOLDER", kwargs={"path": "/test/test_dir"})
    assert emulator.wait_event(fp, "FINISHED", cid)
    assert (folder / "test_dir").is_dir()
    assert printer.fs.wait_until_path("/test/test_dir", WAIT)
    assert printer.fs.get("/test/test_dir").type is const.FileType.FOLDER
    assert wait_for(lambda: any(body(e)["data"].get("new_path") == "/test/test_dir"
                                for e in emulator.events(fp, "FILE_CHANGED")))

    cid = run_command(emulator, printer, "DELETE_FILE", kwargs={"path": "/test/test-file.hex"})
    assert emulator.wait_event(fp, "FINISHED", cid)
    assert not (folder / "test-file.hex").exists()
    assert printer.fs.wait_until_path("/test/test-file.hex", WAIT, exists=False)

    cid = run_command(emulator, printer, "DELETE_DIRECTORY", kwargs={"path": "/test/test_dir"})
    assert emulator.wait_event(fp, "FINISHED", cid)
    assert not (folder / "test_dir").exists()

    printer.detach("test")
    assert emulator.wait_event(fp, "MEDIUM_EJECTED")
    assert printer.fs.storages == []


def test_printed_file_is_protected(emulator, make_printer, folder):
    printer = make_printer()
    fp = printer.fingerprint
    printer.attach(str(folder), "usb")
    printer.printed_file_cb = lambda: "/usb/hello.gcode"
    cid = run_command(emulator, printer, "DELETE_FILE", kwargs={"path": "/usb/hello.gcode"})
    failed = emulator.wait_event(fp, "FAILED", cid)
    assert failed is not None and "printed" in body(failed)["reason"]
    assert (folder / "hello.gcode").exists()
    printer.printed_file_cb = lambda: None
    cid = run_command(emulator, printer, "DELETE_FILE", kwargs={"path": "/usb/hello.gcode"})
    assert emulator.wait_event(fp, "FINISHED", cid)


def test_overriding_a_file_command_with_python(emulator, make_printer, folder):
    printer = make_printer()
    fp = printer.fingerprint
    printer.attach(str(folder), "usb")

    def file_info(caller):
        info = printer.get_file_info(caller)  # the library's answer, as a dict
        info["checked"] = True
        return info

    printer.set_handler(const.Command.SEND_FILE_INFO, file_info)
    cid = run_command(emulator, printer, "SEND_FILE_INFO", kwargs={"path": "/usb/hello.gcode"})
    data = body(emulator.wait_event(fp, "FILE_INFO", cid))["data"]
    assert data["checked"] is True and data["temperature"] == 250
    cid = run_command(emulator, printer, "SEND_FILE_INFO", kwargs={"path": "/usb/missing.gcode"})
    failed = emulator.wait_event(fp, "FAILED", cid)
    assert body(failed)["data"]["error"].startswith("FileNotFoundError(")


def test_attach_errors(folder):
    printer = Printer(const.PrinterType.I3MK3S, "SN", "fp")
    printer.attach(str(folder), "usb")
    with pytest.raises(FileExistsError):
        printer.attach(str(folder), "usb")
    with pytest.raises(FileNotFoundError):
        printer.attach(str(folder / "missing"), "other")
    with pytest.raises(ValueError):
        printer.attach(str(folder), "a#b")
    with pytest.raises(FileNotFoundError):
        printer.detach("other")
    assert printer.fs.get("/usb/nothing") is None
    assert printer.fs.get_os_path("/usb/sub") == str(folder / "sub")
