"""Calls rsp's SOAP endpoints with zeep, an independent SOAP implementation.

Reads a JSON list of calls on stdin; for each: loads the WSDL served by the endpoint (over mutual TLS), calls
one operation with zeep's own envelope (SOAP 1.2, WS-Addressing from zeep's plugin plus a wsa:From header),
and prints a JSON list of {"operation", "status", "subject", "reason"} on stdout.
"""

import json
import sys

import requests
from lxml import etree
from zeep import Client
from zeep.transports import Transport
from zeep.wsa import WsAddressingPlugin

WSA = "http://www.w3.org/2005/08/addressing"


def convert(value):
    """Arguments as zeep takes them (hexBinary values are hex text already)."""
    if isinstance(value, dict):
        return {k: convert(v) for k, v in value.items()}
    if isinstance(value, list):
        return [convert(v) for v in value]
    return value


def main():
    calls = json.load(sys.stdin)
    results = []
    for call in calls:
        session = requests.Session()
        session.trust_env = False  # REQUESTS_CA_BUNDLE etc. would override the CA given here
        session.cert = (call["cert"], call["key"])
        session.verify = call["ca"]
        client = Client(call["wsdl"], transport=Transport(session=session), plugins=[WsAddressingPlugin()])
        sender = etree.Element(etree.QName(WSA, "From"))
        etree.SubElement(sender, etree.QName(WSA, "Address")).text = call["from"]
        operation = getattr(client.service, call["operation"])
        response = operation(_soapheaders=[sender], **convert(call["args"]))
        status = response["FunctionExecutionStatus"]
        data = status["StatusCodeData"]
        results.append({
            "operation": call["operation"],
            "wsdl": call["wsdl"],
            "status": status["Status"],
            "subject": data["Subject"] if data is not None else None,
            "reason": data["Reason"] if data is not None else None,
        })
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
