"""Captures that carry their own TLS secrets: pcapng with a Decryption Secrets Block.

Beside each link's classic pcap, a run with TLS writes ``<link>.pcapng``: the same
frames, after a Decryption Secrets Block holding the run's key log — what
``editcap --inject-secrets tls,keys.log`` makes — so Wireshark and tshark open the
HTTP, mail and QUIC inside with no setting at all.

Block layouts from the pcapng specification (draft-ietf-opsawg-pcapng): a Section
Header Block, one Interface Description Block (Ethernet, nanosecond timestamps by its
``if_tsresol`` option), the Decryption Secrets Block (secrets type ``TLSK``: NSS key
log lines, which also carry QUIC's), then an Enhanced Packet Block a frame.
"""

from __future__ import annotations

import struct
from pathlib import Path

from netsim.trace.pcap import write_per_link
from netsim.trace.recorder import Trace

_SHB, _IDB, _EPB, _DSB = 0x0A0D0D0A, 0x00000001, 0x00000006, 0x0000000A
_BYTE_ORDER_MAGIC = 0x1A2B3C4D
_TLS_KEY_LOG = 0x544C534B            # "TLSK"
_LINKTYPE_ETHERNET = 1
_IF_TSRESOL, _NANOSECONDS = 9, 9


def _pad(data: bytes) -> bytes:
    return data + b"\0" * (-len(data) % 4)


def _block(kind: int, body: bytes) -> bytes:
    total = 12 + len(body)                # type, length, body, length again
    return struct.pack("<II", kind, total) + body + struct.pack("<I", total)


def header(secrets: bytes) -> bytes:
    """Everything before the first packet: the section, the interface, the secrets."""
    section = struct.pack("<IHHq", _BYTE_ORDER_MAGIC, 1, 0, -1)    # length unknown: -1
    options = struct.pack("<HH", _IF_TSRESOL, 1) + _pad(bytes([_NANOSECONDS])) + struct.pack("<HH", 0, 0)
    interface = struct.pack("<HHI", _LINKTYPE_ETHERNET, 0, 262144) + options
    secrets_body = struct.pack("<II", _TLS_KEY_LOG, len(secrets)) + _pad(secrets)
    return _block(_SHB, section) + _block(_IDB, interface) + _block(_DSB, secrets_body)


def packet(t: float, data: bytes) -> bytes:
    ns = round(t * 1e9)
    if ns < 0:
        raise ValueError(f"a frame at {t} s is before the capture began")
    body = struct.pack("<IIIII", 0, ns >> 32, ns & 0xFFFFFFFF, len(data), len(data)) + _pad(data)
    return _block(_EPB, body)


def write_link_pcapngs(trace: Trace, directory: Path, links: list[str], secrets: bytes, *,
                       root: Path | None = None) -> list[Path]:
    """``<directory>/<link>.pcapng`` for every link, each opening with ``secrets``."""
    return write_per_link(trace, directory, links, root=root, suffix="ng",
                          header=header(secrets), record=packet)
