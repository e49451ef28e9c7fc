"""Threads: handlers, telemetry and events from several Python threads while
loop() runs; handlers that call back into their printer; several printers.
Every wait is bounded, so a deadlock fails the test instead of hanging it."""
import threading
import time

from conftest import WAIT, wait_for
from prusaconnect import Printer, const

N_THREADS = 4
N_EVENTS = 150


def join_all(threads):
    for t in threads:
        t.join(WAIT)
    assert not any(t.is_alive() for t in threads), "a thread is stuck (deadlock?)"


def finish(emulator, printer, cid):
    """Sends telemetry (commands ride on its answers) until `cid` finished."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if emulator.wait_event(printer.fingerprint, "FINISHED", cid, timeout=0):
            return True
        printer.telemetry()
        time.sleep(0.02)
    return False


def test_many_threads_while_the_loop_runs(emulator, make_printer):
    printer = make_printer(start=False)
    fp = printer.fingerprint
    loop = threading.Thread(target=printer.loop)
    loop.start()
    assert wait_for(lambda: printer.running_loop)

    handled = []

    @printer.handler(const.Command.START_PRINT)
    def start_print(caller):
        # Re-entering the printer from its handler: no deadlock.
        printer.set_state(const.State.PRINTING, const.Source.CONNECT, job_id=caller.command_id)
        printer.event_cb(const.Event.JOB_INFO, const.Source.CONNECT, path=caller.kwargs["path"])
        printer.telemetry(progress=0)
        printer.command()  # the command is already running: returns at once
        handled.append((caller.command_id, threading.current_thread().name))
        return {"source": const.Source.CONNECT}

    done = threading.Event()

    def command_runner(name):
        while not done.is_set():
            if printer.wait_for_command(0.02):
                printer.command()

    def producer(t):
        for n in range(N_EVENTS):
            printer.event_cb(const.Event.INFO, const.Source.WUI, t=t, n=n)
            printer.telemetry(temp_nozzle=200.0 + n, thread=t)
            if n % 10 == 0:
                time.sleep(0.001)

    runners = [threading.Thread(target=command_runner, args=(f"runner{i}",), name=f"runner{i}")
               for i in range(2)]
    producers = [threading.Thread(target=producer, args=(t,)) for t in range(N_THREADS)]
    for t in runners + producers:
        t.start()

    command_ids = []
    for i in range(5):  # commands while the producers run, one at a time
        cid = emulator.queue(fp, "START_PRINT", kwargs={"path": f"/usb/{i}.gcode"})
        command_ids.append(cid)
        assert finish(emulator, printer, cid)
    join_all(producers)
    done.set()
    join_all(runners)
    assert printer.flush(WAIT)
    printer.stop_loop()
    join_all([loop])

    assert sorted(c for c, _ in handled) == command_ids
    assert {name for _, name in handled} <= {"runner0", "runner1"}
    infos = [e["body"]["data"] for e in emulator.events(fp, "INFO")]
    assert len(infos) == N_THREADS * N_EVENTS
    for t in range(N_THREADS):  # each thread's events arrive in its order
        assert [d["n"] for d in infos if d["t"] == t] == list(range(N_EVENTS))
    assert len(emulator.events(fp, "JOB_INFO")) == 5
    stats = printer.stats()
    assert stats["events_dropped_overflow"] == 0 and stats["events_buffered"] == 0
    assert emulator.protocol_errors(fp) == []


def test_background_handlers_call_back_into_the_printer(emulator, make_printer):
    printer = make_printer(background_handlers=True)
    fp = printer.fingerprint
    stop = threading.Event()

    @printer.handler(const.Command.GCODE)
    def gcode(caller):
        printer.set_state(const.State.BUSY, const.Source.MARLIN)
        printer.event_cb(const.Event.INFO, const.Source.MARLIN, gcode=caller.kwargs["gcode"])
        return {"source": const.Source.MARLIN}

    def telemetry():
        while not stop.is_set():
            printer.telemetry(temp_bed=60.0)
            time.sleep(0.005)

    feeders = [threading.Thread(target=telemetry) for _ in range(3)]
    for t in feeders:
        t.start()
    try:
        for i in range(10):
            cid = emulator.queue_gcode(fp, f"G1 X{i}")
            assert finish(emulator, printer, cid)
    finally:
        stop.set()
        join_all(feeders)
    gcodes = [e["body"]["data"]["gcode"] for e in emulator.events(fp, "INFO")]
    assert gcodes == [f"G1 X{i}" for i in range(10)]


def test_several_printers_with_their_own_threads(emulator, make_printer):
    printers = [make_printer(start=False) for _ in range(4)]
    loops = [threading.Thread(target=p.loop) for p in printers]
    for t in loops:
        t.start()
    for p in printers:
        p.set_handler(const.Command.START_PRINT,
                      lambda caller, p=p: {"source": const.Source.CONNECT,
                                           "sn": p.sn, "path": caller.kwargs["path"]})

    def drive(p):
        cid = emulator.queue(p.fingerprint, "START_PRINT", kwargs={"path": f"/{p.sn}"})
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            p.telemetry(temp_bed=1.0)
            if p.wait_for_command(0.05):
                p.command()
                break
        for n in range(50):
            p.event_cb(const.Event.INFO, const.Source.WUI, n=n)
        return cid

    results = {}
    drivers = [threading.Thread(target=lambda p=p: results.__setitem__(p.sn, drive(p)))
               for p in printers]
    for t in drivers:
        t.start()
    join_all(drivers)
    for p in printers:
        finished = emulator.wait_event(p.fingerprint, "FINISHED", results[p.sn])
        assert finished["body"]["data"] == {"sn": p.sn, "path": f"/{p.sn}"}
        assert p.flush(WAIT)
        assert [e["body"]["data"]["n"] for e in emulator.events(p.fingerprint, "INFO")] == \
            list(range(50))
        p.stop_loop()
    join_all(loops)


def test_condition_handlers_and_printers_from_threads(emulator):
    """Printers created, used and dropped from several threads at once."""
    errors = []

    def worker(i):
        try:
            sn, fp, token = emulator.add_printer()
            p = Printer(const.PrinterType.I3MK3S, sn, fp)
            oks = []
            p.conditions.API.add_fixed_handler(lambda c, old: oks.append(c.name))
            p.set_connection(emulator.url, token)
            p.start()
            p.telemetry(temp_bed=float(i))
            assert wait_for(lambda: oks)
            p.stop()
        except Exception as e:  # pylint: disable=broad-except
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    join_all(threads)
    assert errors == []
