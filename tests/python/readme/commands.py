"""README "Commands" (prusa-connect-sdk-printer 0.8.1 at 352caef) as a
program. The README elides the handlers' ends with `...`; its text says
"Each command handler must return a dictionary with at least the `source`
key", which they do here. (Both handlers are named start_print, as in the
README.) Telemetry is sent in the command loop: commands come in its
answers."""
import os
from hashlib import sha256
from threading import Thread
from time import monotonic, sleep

from prusa.connect.printer import Printer, const

SERVER = os.environ["CONNECT_SERVER"]
TOKEN = os.environ["PRINTER_TOKEN"]
SN = os.environ["PRINTER_SN"]
FINGERPRINT = sha256(SN.encode()).hexdigest()
printer = Printer(const.PrinterType.I3MK3, SN, FINGERPRINT)
printer.set_connection(SERVER, TOKEN)
stopped = []


@printer.handler(const.Command.START_PRINT)
def start_print(args: list[str]):
    """This handler will be called when START_PRINT command was sent to
       the printer."""
    printer.set_state(const.State.PRINTING, const.Source.CONNECT)
    print("Printing file: {args[0]}", flush=True)
    return {"source": const.Source.CONNECT}


@printer.handler(const.Command.STOP_PRINT)
def start_print(args: list[str]):
    """This handler will be called when STOP_PRINT command was sent to
       the printer."""
    printer.set_state(const.State.READY, const.Source.CONNECT)
    print("Printing stopped", flush=True)
    stopped.append(True)
    return {"source": const.Source.CONNECT, "event": const.Event.JOB_INFO,
            "path": args.kwargs["path"]}


# Communication loop
thread = Thread(target=printer.loop)
thread.start()

# Set printer state to READY.
printer.set_state(const.State.READY, const.Source.CONNECT)

# Try run command handler each 100 ms
deadline = monotonic() + 60
while not stopped and monotonic() < deadline:
    printer.telemetry(temp_nozzle=215.0, temp_bed=60.0)
    printer.command()
    sleep(0.1)

sleep(1)
printer.stop_loop()
thread.join()
print("done", flush=True)
