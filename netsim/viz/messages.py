"""From trace records to the messages a sequence diagram draws.

``level="end-to-end"`` (the default) gives one message per packet, from the node
that sent it to the node it was for: an IP packet is followed across routers by
its addresses and IP id, an Ethernet-only frame (ARP, RARP) across switches by its
frame id. Routers and switches appear only where they are endpoints themselves
(they answer ARP, send ICMP errors). ``level="link"`` gives one message per frame
per hop, and shows every node. A message that was lost says where and why —
including a frame that reached a host which then refused it (no listener, no RARP
service): it ends in a cross there. A broadcast is one message with every receiver.

Each message keeps the ids of the frames it is made of and of the frames that
caused them (the trace's causes), so a diagram can order effects after causes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from netsim.trace.recorder import DROP, ENQUEUE, RX, TX, Trace
from netsim.viz.http_stream import LESSON_HEADERS, http_messages
from netsim.viz.labels import Labeller
from netsim.viz.tls_stream import tls_messages
from netsim.wire import registry
from netsim.wire.addr import int_to_ip
from netsim.wire.stp import BRIDGE_GROUP

#: A frame that neither arrived nor was dropped when the run stopped.
IN_FLIGHT = "in flight when the run ended"
#: Drops that are not what became of a message: a flooded copy that another host's
#: NIC filtered out while the frame went on to its destination, and a broadcast that a
#: host had no listener for (every host on a LAN hears a DHCP client's DISCOVER).
NOT_A_FATE = {"mac-filtered", "no-listener"}
#: The fate of an end a time window cut off: the message went on past the window's end.
AFTER_WINDOW = "after the window"
LEVELS = ("end-to-end", "link", "app")


@dataclass(frozen=True, slots=True)
class Message:
    sent: float                 # when its first bit left the sender
    received: float | None      # when it arrived; None if it was lost
    src: str                    # lane
    dst: str                    # lane
    label: str
    protocol: str
    length: int
    frame: int                  # the frame the sender sent
    dropped: str | None = None  # why it was lost
    drop_node: str | None = None
    sport: int = 0
    dport: int = 0
    kind: str = ""              # the label's kind: retransmission, dup-ack, … (see labels)
    dropped_at: float | None = None
    #: Further receivers of a broadcast: (lane, time it arrived, why it was dropped there or None).
    also: tuple = ()
    frames: tuple = ()          # every frame this message was carried in, hop by hop
    causes: tuple = ()          # frames (not its own) whose arrival made a node send it
    why: str = ""               # the trigger of its first frame ("timeout", "arp-resolved", …)
    #: Nodes it passed through on the way: (node, arrived, left); left is None where it died.
    hops: tuple = ()
    #: Receivers of a broadcast that had no listener for it (drawn as arrivals).
    ignored: tuple = ()
    #: What became of it after the drawn window ended ("arrives at web at 2.103 s"): set
    #: by :func:`within_window`, which ends it at the window's edge instead.
    beyond: str = ""

    @property
    def ended(self) -> float:
        """When it arrived or died (the later end of its arrow)."""
        ends = [t for t in (self.received, self.dropped_at) if t is not None]
        ends += [t for _lane, t, _why in self.also]
        return max(ends) if ends else self.sent

    @property
    def receivers(self) -> list[tuple[str, float | None, str | None]]:
        """(lane, time, drop reason) for each receiver, the first one included."""
        first = (self.dst, self.received if self.received is not None else self.dropped_at,
                 self.dropped or (AFTER_WINDOW if self.beyond else None))
        return [first, *self.also]


def messages(trace: Trace, *, level: str = "end-to-end", ports: bool = False,
             protocols=None, nodes=None, flow: str | None = None,
             start: float | None = None, end: float | None = None,
             headers=()) -> list[Message]:
    """The messages of ``trace``, filtered, in the order they were sent.

    ``protocols``: names such as ``{"TCP", "ARP"}``; ``nodes``: messages touching
    these nodes; ``flow``: ``"5001"`` (a port) or ``"10.0.1.10:40000-10.0.2.20:5001"``;
    ``start``/``end``: a window on the sending time; ``ports``: one lane per
    ``host:port`` for TCP and UDP (several applications on one host); ``headers``: HTTP
    header names shown beside the start line at the app level, besides those that carry
    a lesson (:data:`netsim.viz.http_stream.LESSON_HEADERS`).
    """
    if level not in LEVELS:
        raise ValueError("level is 'end-to-end', 'link' or 'app'")
    found = _link_messages(trace) if level == "link" else _end_to_end(trace)
    if level == "app":
        found = application_messages(found, trace, headers=headers)
    if ports:
        found = [_with_ports(m) for m in found]
    wanted_protocols = {p.upper() for p in protocols} if protocols else None
    wanted_nodes = set(nodes) if nodes else None
    out = []
    for m in found:
        if wanted_protocols and m.protocol.upper() not in wanted_protocols:
            continue
        if wanted_nodes and not ({m.src.split(":")[0], m.dst.split(":")[0], m.drop_node}
                                 | {lane.split(":")[0] for lane, _t, _w in m.also}) & wanted_nodes:
            continue
        if flow and not _in_flow(trace, m, flow):
            continue
        if start is not None and m.sent < start or end is not None and m.sent > end:
            continue
        out.append(m)
    return out


def within_window(m: Message, end: float) -> Message:
    """``m`` as a picture ending at ``end`` shows it: the hops after ``end`` left out, and an
    arrival or a loss after it replaced by an end at the window's edge, where the message
    was then (the lane of the last node it had reached), with ``beyond`` saying what became
    of it — so a window never draws as lost what arrived later, nor as arrived what
    had not yet."""
    if m.ended <= end:
        return m
    hops = tuple((node, arrived, left if left is not None and left <= end else None)
                 for node, arrived, left in m.hops if arrived <= end)
    at = hops[-1][0] if hops and hops[-1][2] is None else m.src
    t = m.received if m.received is not None else m.dropped_at
    beyond = m.beyond
    if t is not None and t > end:
        fate = f"arrives at {m.dst}" if m.dropped is None else \
            f"✗ {m.dropped}" + (f" at {m.drop_node}" if m.drop_node else "")
        beyond = (f"at {at} as this window ends, " if at != m.src else "") + \
            f"{fate} at {t:.3f} s, after this window"
        m = replace(m, received=None, dropped=None, dropped_at=end, drop_node=at)
    also = tuple((lane, when, why) if when is None or when <= end else (lane, end, AFTER_WINDOW)
                 for lane, when, why in m.also)
    return replace(m, hops=hops, also=also, beyond=beyond)


def application_messages(found: list[Message], trace: Trace | None = None, *,
                         headers=()) -> list[Message]:
    """Only what the applications said to each other, cut as each protocol's descriptor
    says (:mod:`netsim.wire.registry`): each DNS and DHCP message; each turn of a
    conversation of lines — the segments one side sent before the other answered — as
    one message labelled by its first line (``RETR 1``, then ``+OK 4321 octets … (4
    segments)``); each HTTP request and response, and WebSocket frame, however many
    segments it took. Handshakes, ACKs, ARP and retransmitted copies are left out: the
    picture of a textbook's application-layer chapter."""
    cut = {p.name: p.messages for p in registry.protocols() if p.messages}
    out: list[Message] = []
    turns: dict[tuple, int] = {}            # connection direction → index in out
    segments: dict[int, int] = {}           # index in out → segments merged into it
    http = _http_connections(found) if trace is not None and \
        registry.HTTP_MESSAGES in cut.values() else {}
    shown = LESSON_HEADERS + tuple(h.lower() for h in headers if h.lower() not in LESSON_HEADERS)
    for carried in http.values():
        out += http_messages(carried, trace, shown)
    if trace is not None:
        out += tls_messages(found, trace)
    for m in found:
        if http and _connection(m) in http:
            continue
        if cut.get(m.protocol) == registry.EACH_FRAME:
            out.append(_listeners_only(m))
            continue
        # A connection HTTP's reader did not take (no request line seen) goes by turns.
        if m.protocol not in cut and m.protocol != "TCP" or \
                m.kind not in ("text", "data"):
            continue                        # handshakes, ACKs, retransmitted copies
        key = (m.src, m.sport, m.dst, m.dport)
        turns.pop((m.dst, m.dport, m.src, m.sport), None)      # the other side's turn is over
        index = turns.get(key)
        if index is not None and m.kind == "text" and trace is not None and \
                _ends_a_line(trace, out[index].frames[-1]):
            index = None     # the last segment ended its line, this one starts a new reply
        if index is None:
            if m.protocol == "TCP":
                continue                    # bytes of a connection no application line began
            turns[key] = len(out)
            out.append(replace(m, kind="text"))
            continue
        first = out[index]
        label = re.sub(r" \(\+\d+ lines\)$| len=\d+$", "", first.label.partition(" … (")[0])
        segments[index] = segments.get(index, 1) + 1
        out[index] = replace(first, received=m.received if m.received is not None else first.received,
                             length=first.length + m.length, frames=first.frames + m.frames,
                             label=f"{label} … ({segments[index]} segments)",
                             dropped=m.dropped or first.dropped,
                             dropped_at=m.dropped_at or first.dropped_at)
    out += _openings(found)
    out.sort(key=lambda m: m.sent)
    return out


def _openings(found: list[Message]) -> list[Message]:
    """Each TCP connection's first SYN, as a thin mark: who opened which connection is
    the lesson of FTP's two modes (the data connection from port 20, or to the port the
    227 named) and of HTTP/1.0's connection per object; a firewall's drop shows on it."""
    return [replace(m, kind="open", label=f"opens {m.sport} → {m.dport}")
            for m in found if m.kind == "syn" and "SYN,ACK" not in m.label]


#: Segment kinds that may carry a connection's bytes: Linux puts its FIN on the last
#: data segment when the application closed first (an HTTP/1.0 response's end).
_CARRIES_DATA = {"text", "data", "retransmission", "fast-retransmission", "fin"}
_REQUEST_LABEL = re.compile(r"[A-Z]+ \S+ HTTP/1\.[01]\b")


def _connection(m: Message) -> frozenset:
    return frozenset({(m.src, m.sport), (m.dst, m.dport)})


def _http_connections(found: list[Message]) -> dict[frozenset, list[Message]]:
    """The TCP connections that speak HTTP (a request line in them, whatever the port,
    or HTTP/2's preface in cleartext),
    each with every segment that carries data, retransmitted copies included."""
    http = {_connection(m) for m in found if m.kind == "text" and _REQUEST_LABEL.match(m.label)
            or m.protocol == "HTTP2" and m.label.startswith("HTTP2 Magic")}
    carried: dict[frozenset, list[Message]] = {key: [] for key in http}
    for m in found:
        if m.kind in _CARRIES_DATA and m.sport and _connection(m) in carried:
            carried[_connection(m)].append(m)
    return carried


def _ends_a_line(trace: Trace, frame: int) -> bool:
    """Whether a TCP segment's payload ends with a line end (a reply or command ends
    there; a long message's segments mostly end mid-line)."""
    data = trace.frame_bytes(frame)
    if len(data) < 54 or data[12:14] != b"\x08\x00":
        return False
    total = int.from_bytes(data[16:18], "big")
    return data[14:14 + total].endswith(b"\n")


def _listeners_only(m: Message) -> Message:
    """A broadcast as the application level sees it: only the nodes that took it in
    (the DHCP server, not every host and router that heard the DISCOVER)."""
    if not m.also:
        return m
    took = [(lane, t, why) for lane, t, why in m.receivers
            if why is None and lane not in m.ignored]
    if not took:
        return m
    (dst, received, _), *rest = took
    return replace(m, dst=dst, received=received, also=tuple(rest))


def _with_ports(m: Message) -> Message:
    if m.protocol not in ("TCP", "UDP"):
        return m
    return replace(m, src=f"{m.src}:{m.sport}", dst=f"{m.dst}:{m.dport}")


def _in_flow(trace: Trace, m: Message, flow: str) -> bool:
    if flow.isdigit():
        return int(flow) in (m.sport, m.dport)
    data = trace.frame_bytes(m.frame)
    if len(data) < 38 or data[12:14] != b"\x08\x00":
        return False
    ends = {f"{int_to_ip(int.from_bytes(data[26:30], 'big'))}:{m.sport}",
            f"{int_to_ip(int.from_bytes(data[30:34], 'big'))}:{m.dport}"}
    return set(flow.split("-")) == ends


def address_owners(trace: Trace) -> dict[str, str]:
    """IPv4 address → the node that has it: from the topology the trace recorded, and
    from the addresses assigned while the run went on (RARP, later DHCP)."""
    owners = {}
    for name, node in trace.meta.get("nodes", {}).items():
        for iface in node.get("interfaces", {}).values():
            if iface.get("address"):
                owners[iface["address"].split("/")[0]] = name
    for note in trace.notes:
        if note.what == "address" and note.detail.get("address"):
            owners[note.detail["address"].split("/")[0]] = note.node
    return owners


def _kinds(trace: Trace) -> dict[str, str]:
    return {name: node.get("kind", "host") for name, node in trace.meta.get("nodes", {}).items()}


def _ports_of(data: bytes) -> tuple[int, int]:
    if len(data) >= 38 and data[12:14] == b"\x08\x00" and data[23] in (6, 17):
        hlen = (data[14] & 0xF) * 4
        return int.from_bytes(data[14 + hlen:16 + hlen], "big"), int.from_bytes(data[16 + hlen:18 + hlen], "big")
    return 0, 0


def _identity(data: bytes, frame: int):
    """An IP packet keeps its addresses, id and transport header across routers; other
    frames their id. (The id alone is not enough: Linux sends every DF datagram of an
    unconnected UDP socket with id 0.) A frame sent to the broadcast MAC is its own
    message (all its receivers share it)."""
    if len(data) >= 34 and data[12:14] == b"\x08\x00" and data[0:6] != b"\xff" * 6:
        l4 = 14 + (data[14] & 0xF) * 4
        return ("ip", data[26:30], data[30:34], data[18:20], data[23], data[l4:l4 + 8])
    return ("frame", frame)


def _peers(trace: Trace) -> dict[tuple[str, str], str]:
    """(node, link) → the node at the other end of that link."""
    peer = {}
    for name, link in trace.meta.get("links", {}).items():
        peer[(link["a"][0], name)] = link["b"][0]
        peer[(link["b"][0], name)] = link["a"][0]
    return peer


class _Packet:
    __slots__ = ("t0", "src", "frame", "frames", "rx", "tx", "drops", "ignored", "key")

    def __init__(self, t0: float, src: str, frame: int, key) -> None:
        self.t0, self.src, self.frame, self.key = t0, src, frame, key
        self.frames: list[int] = [frame]
        self.rx: list[tuple[float, str]] = []
        self.tx: list[tuple[float, str]] = []
        self.drops: list[tuple[float, str, str, str]] = []   # time, node, reason, link
        self.ignored: list[str] = []                          # nodes with no listener


def _collect_packets(trace: Trace) -> list[_Packet]:
    """Records grouped into packets, in the order their first frame was sent.

    A router's copy of a packet is a new frame with the packet's identity (addresses,
    IP id, transport header). Several packets in flight can share one — Linux sends a
    DF datagram of an unconnected socket with id 0, and a constant payload keeps the UDP
    header the same — so a copy belongs to the packet of that identity its sender has
    received and not yet sent on, the first such as a queue sends them."""
    ports = trace.ports
    # (identity, node) → the packets of that identity the node has received and not yet
    # sent on, in the order they came (a queue's order): a lookup sees only that node's.
    held: dict[tuple, dict[int, _Packet]] = {}
    owner: dict[int, _Packet] = {}    # frame → its packet
    order: list[_Packet] = []
    for t, kind, port, frame, reason in sorted(trace.raw(), key=lambda r: r[0]):
        node = ports[port].node
        p = owner.get(frame)
        if p is None:
            key = _identity(trace.frame_bytes(frame), frame)
            waiting = held.get((key, node))
            p = next(iter(waiting.values())) if waiting else None
            if p is None:
                if kind != TX and not (kind == DROP and ports[port].iface):
                    continue          # dropped before it left (no route, …), or queued at
                                      # its source (its tx starts the packet): no arrow yet
                p = _Packet(t, node, frame, key)
                order.append(p)
            if frame not in p.frames:
                p.frames.append(frame)
            owner[frame] = p
        if kind == RX:
            p.rx.append((t, node))
            held.setdefault((p.key, node), {})[id(p)] = p
        elif kind in (TX, DROP, ENQUEUE):
            # It leaves the held set when the node hands it to a link — queued, sent or
            # refused by a full queue — in the order the node handled them, not when its
            # first bit leaves: a full queue refuses the newest arrival while older ones
            # still wait to be sent.
            held.get((p.key, node), {}).pop(id(p), None)
        if kind == TX:
            p.tx.append((t, node))
        elif kind == DROP:
            why = trace.reason_name(reason)
            if why not in NOT_A_FATE:
                p.drops.append((t, node, why, ports[port].link))
            elif why == "no-listener":
                p.ignored.append(node)
    return order


def _end_to_end(trace: Trace) -> list[Message]:
    owners, kinds, peer = address_owners(trace), _kinds(trace), _peers(trace)
    labeller = Labeller()
    out = []
    for p in _collect_packets(trace):
        data = trace.frame_bytes(p.frame)
        own = set(p.frames)
        causes = tuple(sorted({c for c in (trace.cause_of(f).frame for f in p.frames)
                               if c >= 0 and c not in own}))
        why = trace.cause_of(p.frame).why
        protocol, label, kind = labeller.label(data, why)
        sport, dport = _ports_of(data)
        common = dict(label=label, protocol=protocol, length=len(data), frame=p.frame,
                      sport=sport, dport=dport, kind=kind, frames=tuple(p.frames),
                      causes=causes, why=why)
        if data[12:14] == b"\x08\x00" and data[0:6] != b"\xff" * 6 and len(data) >= 34:
            out.append(_unicast_ip(p, data, owners, kinds, common))
            continue
        # Ethernet-only frames and broadcasts: every node that took it in — not the
        # switches it crossed, unless it was for them (a BPDU to the bridge group).
        receivers = []
        for_bridges = data[0:6] == BRIDGE_GROUP
        for t, node in p.rx:
            if (kinds.get(node) == "switch" and not for_bridges) or node == p.src \
                    or any(r[0] == node for r in receivers):
                continue
            refused = next((d for d in p.drops if d[1] == node and d[0] >= t), None)
            receivers.append((node, t if refused is None else None,
                              None if refused is None else refused[2],
                              None if refused is None else refused[0]))
        if receivers:
            first, *rest = receivers
            out.append(Message(p.t0, first[1], p.src, first[0], dropped=first[2],
                               drop_node=first[0] if first[2] else None, dropped_at=first[3],
                               also=tuple((n, t if t is not None else dt, why_)
                                          for n, t, why_, dt in rest),
                               ignored=tuple(p.ignored), **common))
        elif p.drops:
            t, node, reason, link = p.drops[0]
            # Lost on the wire or in the queue: it was heading for the node across the link.
            target = peer.get((node, link), node) if reason in ("loss", "queue-full") else node
            out.append(Message(p.t0, None, p.src, target, dropped=reason, drop_node=node,
                               dropped_at=t, **common))
    out.sort(key=lambda m: m.sent)
    return out


def _hops(p: _Packet, dst: str | None, kinds: dict) -> tuple:
    """(node, arrived, left) for every router or host it passed through (not switches)."""
    hops = []
    for t, node in p.rx:
        if node == dst or node == p.src or kinds.get(node) == "switch":
            continue
        left = next((tx for tx, n in p.tx if n == node and tx >= t), None)
        hops.append((node, t, left))
    return tuple(hops)


def _unicast_ip(p: _Packet, data: bytes, owners: dict, kinds: dict, common: dict) -> Message:
    address = int_to_ip(int.from_bytes(data[30:34], "big"))
    dst = owners.get(address)
    if dst is None and p.rx and not p.drops:
        dst = p.rx[-1][1]                         # no known owner: where it ended up
    common = dict(common, hops=_hops(p, dst, kinds))
    arrived = next((t for t, node in p.rx if node == dst), None) if dst else None
    if arrived is not None:
        refused = next((d for d in p.drops if d[1] == dst and d[0] >= arrived), None)
        if refused is None:
            return Message(p.t0, arrived, p.src, dst, **common)
        # It reached the host, which refused it (no listener, closed port): a cross there.
        return Message(p.t0, None, p.src, dst, dropped=refused[2], drop_node=dst,
                       dropped_at=refused[0], **common)
    if p.drops:
        t, node, reason, _link = p.drops[0]
        return Message(p.t0, None, p.src, dst or address, dropped=reason, drop_node=node,
                       dropped_at=t, **common)
    last = p.rx[-1] if p.rx else (p.t0, p.src)
    return Message(p.t0, None, p.src, dst or address, dropped=IN_FLIGHT, drop_node=last[1],
                   dropped_at=last[0], **common)


def _link_messages(trace: Trace) -> list[Message]:
    ports = trace.ports
    peer = _peers(trace)
    labeller = Labeller()
    labels: dict[int, tuple[str, str, str]] = {}
    pending: dict[tuple[int, str], dict] = {}
    out = []
    for t, kind, port, frame, reason in sorted(trace.raw(), key=lambda r: r[0]):
        node, link = ports[port].node, ports[port].link
        cause = trace.cause_of(frame)
        if frame not in labels:
            labels[frame] = labeller.label(trace.frame_bytes(frame), cause.why)
        protocol, label, label_kind = labels[frame]
        data = trace.frame_bytes(frame)
        sport, dport = _ports_of(data)
        common = dict(label=label, protocol=protocol, length=len(data), frame=frame, sport=sport,
                      dport=dport, kind=label_kind, frames=(frame,),
                      causes=(cause.frame,) if cause.frame >= 0 else (), why=cause.why)
        if kind == TX and link:
            pending[(frame, link)] = {"t": t, "src": node, "dst": peer.get((node, link), "?")}
        elif kind == RX and link and (frame, link) in pending:
            p = pending.pop((frame, link))
            out.append(Message(p["t"], t, p["src"], node, **common))
        elif kind == DROP and trace.reason_name(reason) not in NOT_A_FATE:
            why = trace.reason_name(reason)
            target = peer.get((node, link), node) if why in ("loss", "queue-full") else node
            out.append(Message(t, None, node, target, dropped=why, drop_node=node, dropped_at=t,
                               **common))
    out.sort(key=lambda m: m.sent)
    return out
