"""Issue #17: a storage the host keeps, written in Python
(prusaconnect.files.StorageProvider, printer.attach_storage): its tree in
SEND_INFO and FILE_CHANGED, every file command, a download handed to it,
refusals and exceptions as FAILED with the reason, and a method that blocks
while the printer keeps sending telemetry. Against the emulator."""
import base64
import os
import threading

import pytest

from conftest import WAIT, wait_for
from prusaconnect import const
from prusaconnect.files import StorageProvider
from test_scenarios import body
from test_transfers import TEAM, add_file, answer, content, run_command

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 40).decode()


class Host(StorageProvider):
    """What an OctoPrint plugin does with OctoPrint's file manager: files in
    a dict, refusals as the SDK's exceptions."""
    name = "local"

    def __init__(self):
        self.files = {"a.gcode": b"G28\n", "prints/b.gcode": b"G1 X1\n"}
        self.folders = {"prints", "empty"}
        self.printing = None
        self.read_only = set()
        self.denied = set()  # the host refuses these (e.g. its own permissions)
        self.calls = []
        self.threads = set()
        self.block = None  # a threading.Event list() waits for

    def _seen(self, what):
        self.calls.append(what)
        self.threads.add(threading.current_thread().name)

    def list(self):
        self._seen("list")
        if self.block is not None:
            self.block.wait(WAIT)

        def folder(prefix):
            children = []
            for d in sorted(self.folders):
                if os.path.dirname(d) == prefix:
                    children.append({"name": os.path.basename(d), "children": folder(d)})
            for f, data in sorted(self.files.items()):
                if os.path.dirname(f) == prefix:
                    children.append({"name": os.path.basename(f), "size": len(data),
                                     "m_timestamp": 1700000000,
                                     "read_only": f in self.read_only})
            return children
        return {"children": folder("")}

    def space(self):
        return {"free_space": 10 ** 9, "total_space": 4 * 10 ** 9}

    def metadata(self, path):
        self._seen(("metadata", path))
        return {"data": {"estimated printing time (normal mode)": "1h 2m 3s",
                         "filament used [mm]": 810.4},
                "thumbnails": [{"key": "16x16_PNG", "width": 16, "height": 16,
                                "format": "PNG", "data": PNG}]}

    def create_folder(self, path):
        self._seen(("create_folder", path))
        if path in self.files:
            raise FileExistsError(f"A file named {path} exists")
        self.folders.add(path)

    def delete_file(self, path):
        self._seen(("delete_file", path))
        if path == self.printing:
            raise RuntimeError(f"{path} is being printed")
        if path in self.denied:
            raise PermissionError(f"{path} is locked by the host")
        if path not in self.files:
            raise FileNotFoundError(f"File not found: {path}")
        del self.files[path]

    def delete_folder(self, path, force):
        self._seen(("delete_folder", path, force))
        inside = [f for f in self.files if f.startswith(path + "/")]
        if inside and not force:
            raise RuntimeError(f"Folder is not empty: {path}")
        for f in inside:
            del self.files[f]
        self.folders.discard(path)

    def store_file(self, path, local_file):
        self._seen(("store_file", path))
        with open(local_file, "rb") as f:
            self.files[path] = f.read()


def done(emulator, printer, cid):
    e = answer(emulator, printer, cid)
    assert e is not None, cid
    return e


def test_tree_in_send_info_and_file_changed_on_refresh(emulator, make_printer):
    printer = make_printer()
    host = Host()
    printer.attach_storage(host)
    assert "local" in printer.fs.storages
    assert printer.fs.get("/local/prints/b.gcode").attrs["size"] == 6
    fp = printer.fingerprint
    inserted = emulator.wait_event(fp, "MEDIUM_INSERTED")
    assert inserted is not None and body(inserted)["data"]["root"] == "/local"

    cid = run_command(emulator, printer, "SEND_INFO")
    info = body(done(emulator, printer, cid))
    local = [c for c in info["data"]["files"]["children"] if c["name"] == "local"][0]
    names = {c["name"]: c for c in local["children"]}
    assert set(names) == {"a.gcode", "prints", "empty"}
    # SEND_INFO's legacy tree (the SDK's to_dict_legacy): FILE / DIR.
    assert names["a.gcode"]["type"] == "FILE" and names["a.gcode"]["size"] == 4
    assert names["prints"]["type"] == "DIR"
    assert local["free_space"] == 10 ** 9

    # A file added in the host: refresh_storage() reports it.
    host.files["new.gcode"] = b"G28\n"
    printer.refresh_storage("local")
    changed = emulator.wait_event(fp, "FILE_CHANGED")
    assert changed is not None and body(changed)["data"]["new_path"] == "/local/new.gcode"
    assert printer.fs.get("/local/new.gcode") is not None
    with pytest.raises(FileExistsError):
        printer.attach_storage(Host())
    printer.detach("local")
    assert "local" not in printer.fs.storages


def test_every_file_command_and_its_refusals(emulator, make_printer):
    printer = make_printer()
    host = Host()
    printer.attach_storage(host)

    cid = run_command(emulator, printer, "SEND_FILE_INFO", kwargs={"path": "/local/a.gcode"})
    fi = body(done(emulator, printer, cid))
    assert fi["event"] == "FILE_INFO", fi
    assert fi["data"]["estimated printing time (normal mode)"] == "1h 2m 3s"
    assert fi["data"]["preview"] == PNG

    cid = run_command(emulator, printer, "CREATE_FOLDER", kwargs={"path": "/local/prints/new"})
    assert done(emulator, printer, cid)["event"] == "FINISHED"
    assert "prints/new" in host.folders
    assert printer.fs.get("/local/prints/new") is not None  # refreshed after the command

    cid = run_command(emulator, printer, "DELETE_FILE", kwargs={"path": "/local/a.gcode"})
    assert done(emulator, printer, cid)["event"] == "FINISHED"
    assert "a.gcode" not in host.files

    cid = run_command(emulator, printer, "DELETE_FOLDER", kwargs={"path": "/local/prints"})
    e = done(emulator, printer, cid)
    assert e["event"] == "FAILED" and "Folder is not empty: prints" in body(e)["reason"], e
    cid = run_command(emulator, printer, "DELETE_FOLDER",
                      kwargs={"path": "/local/prints", "force": True})
    assert done(emulator, printer, cid)["event"] == "FINISHED"
    assert "prints/b.gcode" not in host.files

    # Refusals: read-only in the tree (the library refuses, as the SDK),
    # refused by the host, being printed; each FAILED with the text.
    host.files["ro.gcode"] = b"x"
    host.files["locked.gcode"] = b"x"
    host.files["busy.gcode"] = b"x"
    host.read_only.add("ro.gcode")
    host.denied.add("locked.gcode")
    host.printing = "busy.gcode"
    printer.refresh_storage("local")
    for path, text in (("/local/ro.gcode", "File is read only"),
                       ("/local/locked.gcode", "locked.gcode is locked by the host"),
                       ("/local/busy.gcode", "busy.gcode is being printed")):
        cid = run_command(emulator, printer, "DELETE_FILE", kwargs={"path": path})
        e = done(emulator, printer, cid)
        assert e["event"] == "FAILED" and text in body(e)["reason"], e
    cid = run_command(emulator, printer, "DELETE_FILE", kwargs={"path": "/local/nope.gcode"})
    e = done(emulator, printer, cid)
    assert e["event"] in ("FAILED", "REJECTED") and "nope.gcode" in body(e)["reason"], e
    assert {"busy.gcode", "ro.gcode", "locked.gcode"} <= set(host.files)
    assert ("delete_file", "ro.gcode") not in host.calls  # refused before the host
    # No path ever reaches the provider outside its storage.
    cid = run_command(emulator, printer, "DELETE_FILE", kwargs={"path": "/local/../etc/passwd"})
    assert done(emulator, printer, cid)["event"] in ("FAILED", "REJECTED")
    assert all(".." not in str(c) for c in host.calls)


def test_a_download_is_handed_to_the_provider(emulator, make_printer):
    printer = make_printer()
    host = Host()
    printer.attach_storage(host)
    fp = printer.fingerprint
    hash_ = add_file(emulator, 120_000)
    cid = run_command(emulator, printer, "START_CONNECT_DOWNLOAD",
                      kwargs={"team_id": TEAM, "hash": hash_, "path": "/local/dl/box.gcode"})
    assert done(emulator, printer, cid)["event"] == "TRANSFER_INFO"
    assert emulator.wait_event(fp, "TRANSFER_FINISHED") is not None
    assert wait_for(lambda: "dl/box.gcode" in host.files)
    assert host.files["dl/box.gcode"] == content(120_000)
    assert ("store_file", "dl/box.gcode") in host.calls

    class NoDownloads(Host):
        name = "sd"
        store_file = StorageProvider.store_file
    printer.attach_storage(NoDownloads())
    cid = run_command(emulator, printer, "START_CONNECT_DOWNLOAD",
                      kwargs={"team_id": TEAM, "hash": hash_, "path": "/sd/x.gcode"})
    e = done(emulator, printer, cid)
    assert e["event"] in ("FAILED", "REJECTED"), e


def test_a_method_that_raises_fails_the_command_and_nothing_crashes(emulator, make_printer,
                                                                     caplog):
    printer = make_printer()

    class Broken(Host):
        def delete_file(self, path):
            raise ZeroDivisionError("boom")

        def metadata(self, path):
            return "not a dict"

        def create_folder(self, path):
            raise KeyboardInterrupt  # a BaseException: still only this command fails

    printer.attach_storage(Broken())
    cid = run_command(emulator, printer, "DELETE_FILE", kwargs={"path": "/local/a.gcode"})
    e = done(emulator, printer, cid)
    assert e["event"] == "FAILED" and "ZeroDivisionError('boom')" in body(e)["reason"], e
    assert "delete_file() failed" in caplog.text
    cid = run_command(emulator, printer, "SEND_FILE_INFO", kwargs={"path": "/local/a.gcode"})
    e = done(emulator, printer, cid)
    assert e["event"] in ("FAILED", "FILE_INFO"), e  # attributes only, or a clear failure
    # A BaseException fails the command and reaches the host's command()
    # call, as one raised by a handler does.
    cid = emulator.queue(printer.fingerprint, "CREATE_FOLDER", kwargs={"path": "/local/x"})
    printer.telemetry()
    assert printer.wait_for_command(WAIT)
    with pytest.raises(KeyboardInterrupt):
        printer.command()
    e = done(emulator, printer, cid)
    assert e["event"] == "FAILED" and "KeyboardInterrupt" in body(e)["reason"], e

    class BadTree(StorageProvider):
        name = "bad"

        def list(self):
            return {"children": [{"size": 3}]}  # no name
    with pytest.raises(ValueError, match="name"):
        printer.attach_storage(BadTree())
    assert "bad" not in printer.fs.storages

    class Raising(StorageProvider):
        name = "raising"

        def list(self):
            raise PermissionError("OctoPrint refused the file list")
    with pytest.raises(PermissionError, match="OctoPrint refused the file list"):
        printer.attach_storage(Raising())
    with pytest.raises(TypeError):
        printer.attach_storage(object())


def test_a_method_that_blocks_does_not_stop_telemetry(emulator, make_printer):
    printer = make_printer()
    host = Host()
    printer.attach_storage(host)
    fp = printer.fingerprint
    host.block = threading.Event()
    refresher = threading.Thread(target=printer.refresh_storage, args=("local",))
    refresher.start()
    try:
        assert wait_for(lambda: host.calls.count("list") >= 2)  # now blocked in list()
        n = emulator.printer(fp)["telemetry_count"]
        for i in range(5):
            printer.telemetry(temp_nozzle=200 + i)
            assert wait_for(lambda: emulator.printer(fp)["telemetry_count"] > n), i
            n = emulator.printer(fp)["telemetry_count"]
        assert refresher.is_alive()
    finally:
        host.block.set()
        refresher.join(WAIT)
    assert not refresher.is_alive()
