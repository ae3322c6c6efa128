"""From trace records to the messages a sequence diagram draws.

``level="end-to-end"`` (the default) gives one message per packet, from the node
that sent it to the node it was for: an IP packet is followed across routers by
its addresses and IP id, an Ethernet-only frame (ARP, RARP) across switches by its
frame id. Routers and switches appear only where they are endpoints themselves
(they answer ARP, send ICMP errors). ``level="link"`` gives one message per frame
per hop, and shows every node. A message that was lost says where and why.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from netsim.trace.recorder import DROP, RX, TX, Trace
from netsim.viz.labels import Labeller
from netsim.wire.addr import int_to_ip


@dataclass(frozen=True, slots=True)
class Message:
    sent: float                 # when its first bit left the sender
    received: float | None      # when it arrived; None if it was lost
    src: str                    # lane
    dst: str                    # lane
    label: str
    protocol: str
    length: int
    frame: int
    dropped: str | None = None  # why it was lost
    drop_node: str | None = None
    sport: int = 0
    dport: int = 0


def messages(trace: Trace, *, level: str = "end-to-end", ports: bool = False,
             protocols=None, nodes=None, flow: str | None = None,
             start: float | None = None, end: float | None = None) -> list[Message]:
    """The messages of ``trace``, filtered, in the order they were sent.

    ``protocols``: names such as ``{"TCP", "ARP"}``; ``nodes``: messages touching
    these nodes; ``flow``: ``"5001"`` (a port) or ``"10.0.1.10:40000-10.0.2.20:5001"``;
    ``start``/``end``: a window on the sending time; ``ports``: one lane per
    ``host:port`` for TCP and UDP (several applications on one host).
    """
    if level not in ("end-to-end", "link"):
        raise ValueError("level is 'end-to-end' or 'link'")
    found = _link_messages(trace) if level == "link" else _end_to_end(trace)
    if ports:
        found = [_with_ports(m) for m in found]
    wanted_protocols = {p.upper() for p in protocols} if protocols else None
    wanted_nodes = set(nodes) if nodes else None
    out = []
    for m in found:
        if wanted_protocols and m.protocol.upper() not in wanted_protocols:
            continue
        if wanted_nodes and not ({m.src.split(":")[0], m.dst.split(":")[0], m.drop_node} & wanted_nodes):
            continue
        if flow and not _in_flow(trace, m, flow):
            continue
        if start is not None and m.sent < start or end is not None and m.sent > end:
            continue
        out.append(m)
    return out


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


def _owners(trace: Trace) -> dict[str, str]:
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
    """An IP packet keeps its addresses and id across routers; other frames their id."""
    if len(data) >= 34 and data[12:14] == b"\x08\x00":
        return ("ip", data[26:30], data[30:34], data[18:20], data[23])
    return ("frame", frame)


def _peers(trace: Trace) -> dict[tuple[str, str], str]:
    """(node, link) → the node at the other end of that link."""
    peer = {}
    for name, link in trace.meta.get("links", {}).items():
        peer[(link["a"][0], name)] = link["b"][0]
        peer[(link["b"][0], name)] = link["a"][0]
    return peer


def _end_to_end(trace: Trace) -> list[Message]:
    owners, kinds, peer = _owners(trace), _kinds(trace), _peers(trace)
    ports = trace.ports
    packets: dict = {}
    order = []
    for t, kind, port, frame, reason in sorted(trace.raw(), key=lambda r: r[0]):
        data = trace.frame_bytes(frame)
        key = _identity(data, frame)
        node = ports[port].node
        p = packets.get(key)
        if p is None:
            if kind != TX and not (kind == DROP and ports[port].iface):
                continue                      # dropped before it left: see _origin_drops
            p = packets[key] = {"first": (t, node, frame), "rx": [], "drop": None}
            order.append(key)
        if kind == RX:
            p["rx"].append((t, node, frame))
        elif kind == DROP and p["drop"] is None:
            p["drop"] = (t, node, trace.reason_name(reason), ports[port].link)
    labeller = Labeller()
    out = []
    for key in order:
        p = packets[key]
        t0, src, frame = p["first"]
        data = trace.frame_bytes(frame)
        protocol, label = labeller.label(data)
        sport, dport = _ports_of(data)
        if key[0] == "ip":
            dst = owners.get(int_to_ip(int.from_bytes(key[2], "big")))
            if dst is None and p["rx"] and p["drop"] is None:
                dst = p["rx"][-1][1]              # no known owner: where it ended up
            arrived = [r for r in p["rx"] if r[1] == dst] if dst else []
            if arrived:
                out.append(Message(t0, arrived[0][0], src, dst, label, protocol, len(data), frame,
                                   sport=sport, dport=dport))
            elif p["drop"] is not None:
                t, node, reason, _link = p["drop"]
                out.append(Message(t0, None, src, dst or int_to_ip(int.from_bytes(key[2], "big")),
                                   label, protocol, len(data), frame, reason, node, sport, dport))
            continue
        targets = [r for r in p["rx"] if kinds.get(r[1]) != "switch" and r[1] != src]
        for t, node, _f in targets:
            out.append(Message(t0, t, src, node, label, protocol, len(data), frame))
        if not targets and p["drop"] is not None:
            t, node, reason, link = p["drop"]
            # Lost on the wire or in the queue: it was heading for the node across the link.
            target = peer.get((node, link), node) if reason in ("loss", "queue-full") else node
            out.append(Message(t0, None, src, target, label, protocol, len(data), frame, reason, node))
    out.sort(key=lambda m: m.sent)
    return out


def _link_messages(trace: Trace) -> list[Message]:
    ports = trace.ports
    peer = _peers(trace)
    labeller = Labeller()
    labels: dict[int, tuple[str, str]] = {}
    pending: dict[tuple[int, str], dict] = {}
    out = []
    for t, kind, port, frame, reason in sorted(trace.raw(), key=lambda r: r[0]):
        node, link = ports[port].node, ports[port].link
        if frame not in labels:
            labels[frame] = labeller.label(trace.frame_bytes(frame))
        protocol, label = labels[frame]
        data = trace.frame_bytes(frame)
        sport, dport = _ports_of(data)
        if kind == TX and link:
            pending[(frame, link)] = {"t": t, "src": node, "dst": peer.get((node, link), "?")}
        elif kind == RX and link and (frame, link) in pending:
            p = pending.pop((frame, link))
            out.append(Message(p["t"], t, p["src"], node, label, protocol, len(data), frame,
                               sport=sport, dport=dport))
        elif kind == DROP:
            why = trace.reason_name(reason)
            target = peer.get((node, link), node) if why in ("loss", "queue-full") else node
            out.append(Message(t, None, node, target, label, protocol, len(data), frame, why, node,
                               sport, dport))
    out.sort(key=lambda m: m.sent)
    return out
