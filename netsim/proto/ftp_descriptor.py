"""FTP as the rest of netsim knows it (RFC 959, RFC 2428): control connections on port
21, data connections FTP-DATA — from port 20 in active mode, or to the address and
port a control line announced — each drawn in its own colour."""

from __future__ import annotations

import re

from netsim.wire.registry import TURNS, DataConnections, Protocol, register

# Where a control line announces a data connection's end (RFC 959 §4.1.2, RFC 2428):
# "PORT h1,h2,h3,h4,p1,p2", "227 … (h1,h2,h3,h4,p1,p2)", "229 … (|||P|)", "EPRT |1|a|P|".
_HOSTPORT = re.compile(r"(?:PORT |\()(\d{1,3}),(\d{1,3}),(\d{1,3}),(\d{1,3}),(\d{1,3}),(\d{1,3})")
_EPSV = re.compile(r"\(\|\|\|(\d{1,5})\|\)")
_EPRT = re.compile(r"EPRT \|1\|([\d.]+)\|(\d{1,5})\|")


def announced_ends(text: str) -> list[tuple[bytes | None, int]]:
    """The data connection ends a control line names: (address, port), the address
    None for the line's sender (a 229 reply names only the server's port)."""
    ends: list[tuple[bytes | None, int]] = []
    for match in _HOSTPORT.finditer(text):
        n = [int(g) for g in match.groups()]
        if all(0 <= v <= 255 for v in n):
            ends.append((bytes(n[:4]), n[4] * 256 + n[5]))
    ends += [(None, int(match.group(1))) for match in _EPSV.finditer(text)]
    for match in _EPRT.finditer(text):
        try:
            ends.append((bytes(int(x) for x in match.group(1).split(".")), int(match.group(2))))
        except ValueError:          # an octet over 255: not an address
            pass
    return ends


FTP = register(Protocol("FTP", "#8e44ad", tcp_ports=(21,), messages=TURNS, tshark="FTP",
                        data=DataConnections("FTP-DATA", port=20, announced=announced_ends)))
#: A data connection's bytes are a file or a listing, not lines: labelled by length.
FTP_DATA = register(Protocol("FTP-DATA", "#d35400", messages=TURNS, tshark="FTP-DATA"))
