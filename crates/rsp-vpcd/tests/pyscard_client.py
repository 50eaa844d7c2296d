"""A PC/SC client for the rsp-vpcd tests, through pyscard.

usage: pyscard_client.py READER-PREFIX STEP...

Waits (bounded) for a reader whose name starts with READER-PREFIX and for a card in it, connects,
then runs the steps in order: a hex string is a command APDU, `reset` is a warm reset
(SCardReconnect). It prints one line per fact, for the Rust test to assert on:

    READERS <name>|<name>...
    ATR <hex>
    R <hex response data and SW1 SW2>     (one per APDU)
    RESET <hex ATR after the reset>
    ERROR <text>                          (then exit status 1)
"""

import sys
import time

from smartcard.Exceptions import CardConnectionException, NoCardException
from smartcard.System import readers
from smartcard.util import toBytes, toHexString

DEADLINE = time.monotonic() + 20.0


def hexs(data):
    return toHexString(list(data), format=1)  # PACK: no spaces


def wait_for_reader(prefix):
    while True:
        names = [str(r) for r in readers()]
        found = [r for r in readers() if str(r).startswith(prefix)]
        if found or time.monotonic() > DEADLINE:
            print("READERS " + "|".join(names), flush=True)
            if not found:
                raise SystemExit("ERROR no reader named " + prefix)
            return found[0]
        time.sleep(0.2)


def connect(reader):
    while True:
        connection = reader.createConnection()
        try:
            connection.connect()
            return connection
        except (NoCardException, CardConnectionException) as e:
            if time.monotonic() > DEADLINE:
                raise SystemExit("ERROR no card in " + str(reader) + ": " + str(e))
            time.sleep(0.2)


def main(argv):
    if len(argv) < 2:
        raise SystemExit("ERROR usage: pyscard_client.py READER-PREFIX STEP...")
    reader = wait_for_reader(argv[1])
    connection = connect(reader)
    print("ATR " + hexs(connection.getATR()), flush=True)
    for step in argv[2:]:
        if step == "reset":
            connection.reconnect()
            print("RESET " + hexs(connection.getATR()), flush=True)
            continue
        data, sw1, sw2 = connection.transmit(toBytes(step))
        print("R " + hexs(list(data) + [sw1, sw2]), flush=True)
    connection.disconnect()


if __name__ == "__main__":
    try:
        main(sys.argv)
    except SystemExit:
        raise
    except Exception as e:  # report any pyscard failure as a line the test prints
        print("ERROR " + type(e).__name__ + ": " + str(e), flush=True)
        sys.exit(1)
