"""prusaconnect-bridge: config errors, many printers, registration, status,
reload, reset — with virtual printers (no host) against the emulator."""
import json
import os
import stat
import time

from conftest import WAIT, fingerprint, wait_for


def virtual(name, **kw):
    return {"name": name, "host": "virtual", "idle_interval_ms": 300,
            "printing_interval_ms": 200, **kw}


def test_help_and_unknown_command(bridges):
    b = bridges([])
    r = b.run("--help")
    assert r.returncode == 0 and "register NAME" in r.stdout and "--reset NAME" in r.stdout
    r = b.run("frobnicate")
    assert r.returncode == 2 and "unknown command" in r.stderr


def test_syntax_error_names_file_and_line(bridges, tmp_path):
    b = bridges([])
    with open(b.config, "a") as f:
        f.write('\n[[printer]]\nname = "x\n')
    r = b.run("--check")
    assert r.returncode == 2
    assert f"{b.config}:" in r.stderr and "printer" not in r.stderr.split(":")[0]


def test_bad_entry_is_left_out_and_named(bridges, emulator):
    b = bridges([virtual("good"), {"name": "typo", "host": "virtual", "idel_interval_ms": 5},
                 {"name": "nourl", "host": "moonraker"},
                 {"name": "good", "host": "virtual"}])
    r = b.run("--check")
    assert r.returncode == 1
    text = open(b.config).read().split("\n")
    typo_line = next(i for i, line in enumerate(text, 1) if "idel_interval_ms" in line)
    assert f"bridge.toml:{typo_line}: printer.idel_interval_ms: unknown key" in r.stderr
    assert "printer.url: missing (required for host moonraker)" in r.stderr
    assert 'printer.name: "good" is used by an earlier printer' in r.stderr
    # The good printer still runs.
    fp = b.provision("good")
    b.start()
    assert emulator.wait_state(fp, "IDLE")
    assert "printer.idel_interval_ms: unknown key" in b.stderr()


def test_many_printers_register_and_do_not_disturb_each_other(bridges, emulator):
    b = bridges([virtual("a", job_seconds=2), virtual("b")]).start()
    # Both show a registration code; approve them as a user would.
    assert b.wait_log("[a] not registered: open") and b.wait_log("[b] not registered: open")
    r = wait_for(lambda: (lambda x: x if x.returncode == 0 else None)(b.run("register", "a")))
    assert "/add-printer/connect/1.3/" in r.stdout and "type the code" in r.stdout
    for code in emulator.codes():
        if code.get("approved") is not True:
            emulator.approve(code["code"])
    assert b.wait_log("[a] registered: the token is stored")
    assert b.wait_log("[b] registered: the token is stored")
    tokens = {}
    for name in ("a", "b"):
        d = os.path.join(b.state, name)
        assert stat.S_IMODE(os.stat(d).st_mode) == 0o700
        for f in ("identity", "token"):
            assert stat.S_IMODE(os.stat(os.path.join(d, f)).st_mode) == 0o600
        tokens[name] = open(os.path.join(d, "token")).read().strip()
        assert not os.path.exists(os.path.join(d, "registration"))
    assert tokens["a"] != tokens["b"]
    sn = {n: open(os.path.join(b.state, n, "identity")).read().split("\n")[0][7:]
          for n in ("a", "b")}
    fa, fb = fingerprint(sn["a"]), fingerprint(sn["b"])
    # A print on one: PRINTING, FINISHED; the other stays IDLE.
    cid = emulator.queue(fa, "START_PRINT", {"path": "/local/benchy.gcode"})
    assert emulator.wait_result(fa, cid)["event"] == "FINISHED"
    assert emulator.wait_state(fa, "PRINTING")
    assert emulator.wait_state(fa, "FINISHED", timeout=15)
    assert not emulator.events(fb, "STATE_CHANGED") or all(
        e["state"] in ("IDLE",) for e in emulator.events(fb, "STATE_CHANGED"))
    assert wait_for(lambda: emulator.telemetry(fb).get("temp_nozzle") is not None)
    r = b.run("register", "a")
    assert r.returncode == 0 and "is registered" in r.stdout
    # status.json is rewritten every 2 s.
    def rows():
        status = b.run("status")
        assert status.returncode == 0
        return {line.split()[0]: line for line in status.stdout.splitlines()[1:]}
    assert wait_for(lambda: "FINISHED" in rows()["a"])
    assert "registered" in rows()["a"] and " ok " in rows()["a"]
    rows = rows()
    assert "IDLE" in rows["b"]


def test_reload_adds_and_removes_without_touching_others(bridges, emulator):
    b = bridges([virtual("keep")])
    fk = b.provision("keep")
    b.start()
    assert emulator.wait_state(fk, "IDLE")
    assert b.wait_log("[keep] printer ")
    started = b.stderr().count("[keep] printer ")
    fn = b.provision("new")
    b.write([virtual("keep"), virtual("new")])
    b.reload()
    assert b.wait_log("reload: new printer new: starting it")
    assert emulator.wait_state(fn, "IDLE")
    b.write([virtual("new")])
    b.reload()
    assert b.wait_log("reload: printer keep removed: stopping it")
    assert "keep" not in b.run("status").stdout
    # Its telemetry stops.
    time.sleep(1.0)
    count = len(emulator.telemetry_log(fk))
    time.sleep(1.5)
    assert len(emulator.telemetry_log(fk)) == count
    assert b.stderr().count("[keep] printer ") == started  # never restarted
    # A broken file on reload keeps the running printers.
    with open(b.config, "a") as f:
        f.write("[[printer\n")
    b.reload()
    assert b.wait_log("keeping the running configuration")
    mark = len(emulator.telemetry_log(fn))
    assert wait_for(lambda: len(emulator.telemetry_log(fn)) > mark + 2)


def test_reset_forgets_one_printer(bridges, emulator):
    b = bridges([virtual("one"), virtual("two")])
    f1 = b.provision("one")
    b.provision("two")
    b.start()
    assert emulator.wait_state(f1, "IDLE")
    r = b.run("--reset", "one")
    assert r.returncode == 0 and "reload the bridge" in r.stdout
    assert not os.path.exists(os.path.join(b.state, "one", "token"))
    assert os.path.exists(os.path.join(b.state, "two", "token"))
    b.reload()
    assert b.wait_log("reload: printer one lost its token (--reset): registering anew")
    assert b.wait_log("[one] not registered: open")
    assert "[two] not registered" not in b.stderr()
    r = b.run("--reset", "nobody")
    assert r.returncode == 2 and 'no printer named "nobody"' in r.stderr


def test_state_dir_not_creatable_is_a_clear_error(bridges):
    b = bridges([virtual("x")])
    with open(b.config) as f:
        text = f.read().replace(b.state, "/nonexistent/dir/state")
    with open(b.config, "w") as f:
        f.write(text)
    b.start()
    assert b.proc.wait(WAIT) == 1
    assert "cannot create the state folder /nonexistent/dir/state" in b.stderr()
    b.proc = None
