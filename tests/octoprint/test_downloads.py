"""Downloads from Connect into OctoPrint: the library downloads into a staging
file, the adapter's StorageProvider::StoreFile uploads it to OctoPrint, then
the adapter selects / prints it when Connect asked."""
import os

from harness import wait_for


def generated(size):
    return bytes(((i * 31 + 7) & 0xFF) for i in range(size))


def add_connect_file(emulator, hash_, size, **extra):
    body = {"team_id": 7, "hash": hash_, "size": size}
    body.update(extra)
    emulator.api("POST", "/api/files", body)


def test_connect_download_is_uploaded_and_printed(emulator, fake, online, workdir):
    staging = os.path.join(workdir, "staging")
    os.makedirs(staging)
    fp, a = online("--staging-dir", staging)
    assert wait_for(lambda: "attached" in a.stderr())
    h = f"h{os.getpid()}a"
    add_connect_file(emulator, h, 50000)
    cid = emulator.queue(fp, "START_CONNECT_DOWNLOAD",
                         {"path": "/local/dl/box.gcode", "team_id": 7, "hash": h,
                          "printing": True})
    r = emulator.wait_result(fp, cid)
    assert r and r["event"] == "TRANSFER_INFO", r
    assert emulator.wait_event(fp, "TRANSFER_FINISHED"), a.stderr()
    assert wait_for(lambda: "dl/box.gcode" in fake.contents)
    assert fake.contents["dl/box.gcode"] == generated(50000)
    assert emulator.wait_state(fp, "PRINTING"), a.stderr()
    assert fake.job_file == "dl/box.gcode"
    assert fake.missing_lookups == []  # the new folder dl/ was not looked up first
    assert wait_for(lambda: os.listdir(staging) == []), os.listdir(staging)


def test_url_download_is_uploaded_and_selected_only(emulator, fake, online):
    fp, a = online()
    assert wait_for(lambda: "attached" in a.stderr())
    h = f"h{os.getpid()}b"
    add_connect_file(emulator, h, 3000)
    url = f"{emulator.url}/p/teams/7/files/{h}/raw"
    cid = emulator.queue(fp, "START_URL_DOWNLOAD",
                         {"path": "/local/web.gcode", "url": url, "selecting": True})
    assert emulator.wait_result(fp, cid)["event"] == "TRANSFER_INFO"
    assert emulator.wait_event(fp, "TRANSFER_FINISHED"), a.stderr()
    assert wait_for(lambda: fake.job_file == "web.gcode"), a.stderr()
    assert fake.state == "Operational"
    assert fake.contents["web.gcode"] == generated(3000)
    # Connect sees the new file.
    assert emulator.wait_event(fp, "FILE_CHANGED", pred=lambda e: "web.gcode" in str(e["body"]))


def test_download_octoprint_refuses_is_aborted_with_its_reason(emulator, fake, online,
                                                              workdir):
    staging = os.path.join(workdir, "staging")
    os.makedirs(staging)
    fp, a = online("--staging-dir", staging)
    assert wait_for(lambda: "attached" in a.stderr())
    h = f"h{os.getpid()}c"
    add_connect_file(emulator, h, 100)
    cid = emulator.queue(fp, "START_CONNECT_DOWNLOAD",
                         {"path": "/local/model.stl", "team_id": 7, "hash": h})
    assert emulator.wait_result(fp, cid)["event"] == "TRANSFER_INFO"
    ended = emulator.wait_event(fp, "TRANSFER_ABORTED")
    assert ended, a.stderr()
    assert "invalid type" in ended["body"]["reason"], ended
    assert "model.stl" not in fake.files
    assert wait_for(lambda: os.listdir(staging) == []), os.listdir(staging)


def test_download_progress_is_visible_in_telemetry(emulator, fake, online):
    fp, a = online()
    assert wait_for(lambda: "attached" in a.stderr())
    h = f"h{os.getpid()}d"
    add_connect_file(emulator, h, 60000, throttle_bytes_per_sec=20000)
    cid = emulator.queue(fp, "START_CONNECT_DOWNLOAD",
                         {"path": "/local/slow.gcode", "team_id": 7, "hash": h})
    assert emulator.wait_result(fp, cid)["event"] == "TRANSFER_INFO"
    seen = wait_for(lambda: "transfer_id" in emulator.telemetry(fp)
                    and emulator.telemetry(fp))
    assert seen, emulator.telemetry(fp)
    assert emulator.wait_event(fp, "TRANSFER_FINISHED")
    assert wait_for(lambda: "slow.gcode" in fake.contents)


def test_stopped_download_never_reaches_octoprint(emulator, fake, online):
    fp, a = online()
    assert wait_for(lambda: "attached" in a.stderr())
    h = f"h{os.getpid()}e"
    add_connect_file(emulator, h, 200000, throttle_bytes_per_sec=20000)
    cid = emulator.queue(fp, "START_CONNECT_DOWNLOAD",
                         {"path": "/local/stopped.gcode", "team_id": 7, "hash": h})
    assert emulator.wait_result(fp, cid)["event"] == "TRANSFER_INFO"
    cid = emulator.queue(fp, "STOP_TRANSFER")
    assert emulator.wait_result(fp, cid)["event"] == "FINISHED"
    assert emulator.wait_event(fp, "TRANSFER_STOPPED"), a.stderr()
    assert "stopped.gcode" not in fake.files
    assert ("POST", "/api/files/local") not in fake.requests
