"""A run's frames with their display-filter fields: where an expectation looks.

Each link's frames are read in capture order by one :class:`~netsim.wire.fields.CaptureFields`,
as tshark reads that link's pcap, so a field that needs the connection's history
(``tcp.seq``, an HTTP response reassembled over segments) has the value tshark shows.
"""

from __future__ import annotations

from dataclasses import dataclass

from netsim.trace.layout import DROP, RX, TX
from netsim.wire.fields import CaptureFields, packet_key


@dataclass(frozen=True)
class Seen:
    """One frame on one link (``dropped``: the reason, for a frame a node dropped)."""
    time: float
    link: str
    node: str              # the node that sent it (or dropped it)
    frame: int
    fields: dict
    origin: bool           # the packet's first transmission (not a router's forwarded copy)
    dropped: str = ""
    #: In the link's capture: a frame the link lost was sent but never crossed it, so
    #: it counts as sent (by its node, at its origin) but is in no pcap.
    captured: bool = True


def frames_of(trace) -> list[Seen]:
    """Every transmission and every drop of the run, in time order."""
    readers: dict[str, CaptureFields] = {}
    known: dict[int, dict] = {}            # frame → its fields where first seen
    sent: set[int] = set()
    # (node, packet) a node has received: what it sends of one again, it forwards. (A
    # router's copy names as its cause the frame it came in — or, if it waited for
    # ARP, the ARP reply that released it: the cause alone cannot tell.)
    received: set[tuple] = set()
    out = []
    ports = trace.ports
    for t, kind, port_id, frame, reason in trace.ordered():
        port = ports[port_id]
        if kind == RX:
            key = packet_key(trace.frame_bytes(frame))
            if key is not None:
                received.add((port.node, key))
        elif kind == TX:
            reader = readers.setdefault(port.link, CaptureFields())
            data = trace.frame_bytes(frame)
            fields = reader.fields(data, t)
            known.setdefault(frame, fields)
            first = frame not in sent
            sent.add(frame)
            origin = first and (port.node, packet_key(data)) not in received
            out.append(Seen(t, port.link, port.node, frame, fields, origin))
        elif kind == DROP:
            why = trace.reason_name(reason)
            fields = known.get(frame)
            if fields is None:
                fields = CaptureFields().fields(trace.frame_bytes(frame))
            if why == "loss":                   # sent, and lost on the wire
                data = trace.frame_bytes(frame)
                origin = frame not in sent and (port.node, packet_key(data)) not in received
                sent.add(frame)
                out.append(Seen(t, port.link, port.node, frame, fields, origin, captured=False))
            out.append(Seen(t, port.link, port.node, frame, fields, False, why))
    return out
