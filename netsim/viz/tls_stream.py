"""What applications said inside TLS, for the application-level diagram.

On the wire a TLS connection is ciphertext: its frames say ``Application Data (183 B)``
and nothing of the ``GET`` or the ``AUTH PLAIN`` inside. The runtime notes what each
side's engine wrote into its TLS layer and read out of it (the trace's ``tls-sent`` and
``tls-received`` notes: where in the plaintext stream, how much, the first line), and
this module turns those notes into messages: each turn of a connection — what one side
wrote before the other answered — one arrow, from the TLS record that carried its first
byte to the moment the peer's layer handed over its last, labelled by its first line
and marked ``[TLS]``: protected, unlike the cleartext before a STARTTLS.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace

from netsim.viz.http_stream import ws_frames
from netsim.wire import registry

#: What runs inside TLS on each TLS port (RFC 8314 §7, RFC 9110 §4.2.2); a STARTTLS
#: connection keeps its own port's protocol (25, 587, 110, 143).
_INSIDE = {443: "HTTP", 465: "SMTP", 993: "IMAP", 995: "POP"}
MARK = "[TLS] "


def _inner(ports: tuple[int, int]) -> str:
    for port in ports:
        if port in _INSIDE:
            return _INSIDE[port]
        owner = registry.on_port("tcp", port)
        if owner is not None and owner.name != "TLS":
            return owner.name
    return "TLS"


def tls_messages(found: list, trace) -> list:
    """The turns of every TLS connection the trace noted, as messages (each made from
    the :class:`~netsim.viz.messages.Message` of the record that carried it)."""
    notes = [n for n in trace.notes if n.what in ("tls-sent", "tls-received")]
    if not notes:
        return []
    # The TLS records each direction sent, in order: a turn's arrow starts at the first
    # of application data sent once its bytes were written (not a handshake record that
    # left at the same instant).
    records: dict[tuple, list] = defaultdict(list)
    landed: dict[tuple, list] = defaultdict(list)   # every segment by direction and arrival
    for m in found:
        if m.protocol == "TLS" and m.sport:
            records[(m.src, m.sport, m.dport)].append(m)
        if m.sport and m.received is not None:
            landed[(m.src, m.sport, m.dport, m.received)].append(m)
    arrived: dict[tuple[str, str], list[tuple[int, float]]] = defaultdict(list)
    for n in notes:
        if n.what == "tls-received":
            d = n.detail
            arrived[(d["remote"], d["local"])].append((d["offset"] + d["size"], n.time))
    turns: list[dict] = []
    current: dict[frozenset, dict] = {}            # connection → its turn under way
    upgraded: set[frozenset] = set()               # connections past a 101: WebSocket
    for n in (n for n in notes if n.what == "tls-sent"):
        d = n.detail
        pair = frozenset((d["local"], d["remote"]))
        turn = current.get(pair)
        # After the Upgrade each write is a frame of its own (RFC 6455 §5): no turns.
        if turn is None or turn["from"] != d["local"] or pair in upgraded:
            turn = current[pair] = {"from": d["local"], "to": d["remote"], "node": n.node,
                                    "at": n.time, "start": d["offset"], "end": d["offset"],
                                    "head": d["head"], "writes": 0, "lines": 0,
                                    "ws": pair in upgraded, "bytes": d.get("start", "")}
            turns.append(turn)
        if d["head"].startswith("HTTP/1.1 101"):
            upgraded.add(pair)
        turn["end"] = d["offset"] + d["size"]
        turn["writes"] += 1
        turn["lines"] += d.get("lines", 0)
    out = []
    for turn in turns:
        sport, dport = _port(turn["from"]), _port(turn["to"])
        protocol = "WebSocket" if turn["ws"] else _inner((dport, sport))
        size = turn["end"] - turn["start"]
        if turn["ws"]:
            label = _ws_label(turn["bytes"], size)
        else:
            label = turn["head"] or f"{protocol} ({size:,} B)"
            described = registry.find(protocol)
            if described is not None and described.lines and protocol != "HTTP" \
                    and turn["lines"] > 1:
                label += f" (+{turn['lines'] - 1} lines)"      # a reply of several lines
            elif turn["writes"] > 1:
                label += f" … ({turn['writes']} writes)"
        carrier = next((m for m in records.get((turn["node"], sport, dport), ())
                        if m.sent >= turn["at"] and "Application Data" in m.label), None)
        if carrier is None:
            continue                    # written, but no record of it left before the end
        received = next((t for end, t in arrived.get((turn["from"], turn["to"]), ())
                         if end >= turn["end"]), None)
        # A record lost on the way came again: the message arrived all the same.
        lost = {} if received is None else {"dropped": None, "drop_node": None, "dropped_at": None}
        # The segment whose arrival completed it (a retransmitted copy when the first was
        # lost) is one of the frames it was carried in.
        last = [f for m in landed.get((turn["node"], sport, dport, received), ()) for f in m.frames
                if f not in carrier.frames]
        out.append(replace(carrier, received=received, label=MARK + label, protocol=protocol,
                           length=size, kind="text", frames=carrier.frames + tuple(last), **lost))
    return out


def _ws_label(start: str, size: int) -> str:
    """The frame a write began with, as the cleartext diagram labels it (``WS text
    "AAPL 190.20 #3"``), from the first bytes the runtime noted."""
    frames: list = []
    ws_frames(bytes.fromhex(start), 0, frames)
    if frames and "incomplete" not in frames[0][2]:
        return frames[0][2]
    return f"WS frame ({size:,} B)"


def _port(end: str) -> int:
    return int(end.rpartition(":")[2])
