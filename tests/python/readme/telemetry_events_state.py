"""README "Printer instance", "Telemetry", "Event callback" and "Printer
state" (prusa-connect-sdk-printer 0.8.1 at 352caef) as one program; the
README's endless loops run a few rounds, faster than once a second."""
import os
from hashlib import sha256
from threading import Thread
from time import sleep

from prusa.connect.printer import Printer, const

SERVER = os.environ["CONNECT_SERVER"]
TOKEN = os.environ["PRINTER_TOKEN"]
SN = os.environ["PRINTER_SN"]
FINGERPRINT = sha256(SN.encode()).hexdigest()
PRINTER_TYPE = const.PrinterType.I3MK3
printer = Printer(PRINTER_TYPE, SN, FINGERPRINT)

printer.set_connection(SERVER, TOKEN)

# Start communication loop in a separate thread
thread = Thread(target=printer.loop)
thread.start()

# Send telemetry to the main thread queue once per second
for _ in range(3):
    printer.telemetry(const.State.READY, temp_nozzle=24.1, temp_bed=23.2)
    sleep(0.3)

try:
    raise RuntimeError("Filament runout")
except Exception as err:
    # Send event to internal queue
    printer.event_cb(const.Event.FAILED, const.Source.WUI,
                     reason=str(err))
sleep(0.3)

# Toggle the state each second
printer.set_state(const.State.READY, const.Source.MARLIN)
for _ in range(3):
    sleep(0.3)
    if printer.state == const.State.READY:
        printer.set_state(const.State.BUSY, const.Source.MARLIN)
    elif printer.state == const.State.BUSY:
        printer.set_state(const.State.READY, const.Source.MARLIN)

sleep(1)
printer.stop_loop()
thread.join()
print("done", flush=True)
