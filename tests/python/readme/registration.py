"""README "Registration" (prusa-connect-sdk-printer 0.8.1 at 352caef), as a
program. The README's snippet relies on the communication loop of its
"Printer instance" section to poll for the token: it runs in a thread here.
The harness runs it with the import changed to `prusaconnect`, and against
the SDK itself when it is available.
"""
import os
from threading import Thread
from time import sleep

from prusa.connect.printer import Printer, const

SERVER = os.environ["CONNECT_SERVER"]
SN = os.environ["PRINTER_SN"]
FINGERPRINT = os.environ["PRINTER_FINGERPRINT"]
PRINTER_TYPE = const.PrinterType.I3MK3
printer = Printer(PRINTER_TYPE, SN, FINGERPRINT)
printer.firmware = "3.14.1"

printer.set_connection(SERVER, None)

tmp_code = printer.register()
print(f"Use this code `{tmp_code}` in add printer form "
      f"{SERVER}/printers/overview?code={tmp_code}.", flush=True)

thread = Thread(target=printer.loop, daemon=True)  # communication loop
thread.start()

while printer.token is None:
    print("Waiting for the printer registration on the Connect web...", flush=True)
    sleep(1)

print(f"Printer is registered with token {printer.token}", flush=True)

printer.telemetry(temp_nozzle=24.1, temp_bed=23.2)
sleep(1)
printer.stop_loop()
thread.join(5)
