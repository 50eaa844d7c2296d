"""A PC/SC client for the rsp-vpcd tests, through pyscard.

usage: pyscard_client.py READER-PREFIX STEP...
       pyscard_client.py READER-PREFIX --absent

Waits (bounded) for a reader whose name starts with READER-PREFIX and for a card in it, connects,
then runs the steps in order: a hex string is a command APDU, `reset` is a warm reset
(SCardReconnect). It prints one line per fact, for the Rust test to assert on:

    READERS <name>|<name>...
    ATR <hex>
    R <hex response data and SW1 SW2>     (one per APDU, after any 61xx GET RESPONSE rounds)
    RESET <hex ATR after the reset>
    ERROR <text>                          (then exit status 1)

With --absent it only waits (bounded) until pcscd reports the reader empty and prints ABSENT.
"""

import sys
import time

from smartcard import scard
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


def wait_for_absent(reader):
    """Polls the reader state (SCardGetStatusChange, no connection) until it is empty."""
    hresult, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    if hresult != scard.SCARD_S_SUCCESS:
        raise SystemExit("ERROR SCardEstablishContext: " + scard.SCardGetErrorMessage(hresult))
    try:
        while True:
            hresult, states = scard.SCardGetStatusChange(
                context, 0, [(str(reader), scard.SCARD_STATE_UNAWARE)]
            )
            if hresult == scard.SCARD_S_SUCCESS and states[0][1] & scard.SCARD_STATE_EMPTY:
                print("ABSENT", flush=True)
                return
            if time.monotonic() > DEADLINE:
                raise SystemExit("ERROR the card stays in " + str(reader))
            time.sleep(0.1)
    finally:
        scard.SCardReleaseContext(context)


def main(argv):
    if len(argv) < 2:
        raise SystemExit("ERROR usage: pyscard_client.py READER-PREFIX STEP...")
    reader = wait_for_reader(argv[1])
    if argv[2:] == ["--absent"]:
        wait_for_absent(reader)
        return
    connection = connect(reader)
    print("ATR " + hexs(connection.getATR()), flush=True)
    for step in argv[2:]:
        if step == "reset":
            connection.reconnect()
            print("RESET " + hexs(connection.getATR()), flush=True)
            continue
        data, sw1, sw2 = connection.transmit(toBytes(step))
        # 61 xx: the rest of the response waits for GET RESPONSE (basic channel).
        while sw1 == 0x61:
            more, sw1, sw2 = connection.transmit([0x00, 0xC0, 0x00, 0x00, sw2])
            data = list(data) + list(more)
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
