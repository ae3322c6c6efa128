"""Textbook labels for frames: ``SYN seq=0 MSS=1460 WS=4``, ``ARP who-has 10.0.0.2``, ``250 OK``.

TCP numbers are relative to each direction's initial sequence number and windows
are in bytes (scaled by the negotiated window scale, RFC 7323), as textbooks and
Wireshark show them. Duplicate ACKs are counted and window updates named with
Wireshark's definitions (``tcp.analysis.duplicate_ack``, ``window_update``). A TCP or
UDP payload that starts with a line of text (an application command or status
line) is labelled by that line. Each label also has a *kind* that diagrams colour
by and choose what to show from (``retransmission``, ``dup-ack``, ``syn``, …).

Which application protocol a frame is comes from the protocol registry
(:mod:`netsim.wire.registry`): a protocol that labels its own bytes (DNS, DHCP) is
labelled as :func:`~netsim.wire.describe.describe` says; one of lines (SMTP, HTTP) is
labelled as TCP is, and its lines in its colour; one with data connections (FTP)
gives those its data protocol's name (FTP-DATA).
"""

from __future__ import annotations

import re
from typing import NamedTuple

from netsim.errors import FrameError
from netsim.wire import headers as h
from netsim.wire import registry
from netsim.wire.describe import describe

# An application command or status line: printable, ended by LF or CRLF (RFC 5321,
# RFC 959, RFC 9112 all speak in such lines).
_TEXT_LINE = re.compile(rb"[A-Za-z0-9+*-][\x20-\x7e]{1,1000}(?=\r?\n)")
#: Longer lines (an IMAP ENVELOPE) are cut here, with an ellipsis.
TEXT_LABEL_MAX = 80
_FLAG_NAMES = ((0x02, "SYN"), (0x01, "FIN"), (0x04, "RST"), (0x08, "PSH"), (0x10, "ACK"))
TRACEROUTE_PORTS = range(33434, 33434 + 300)

#: What a retransmission's trigger (the trace's *why*) is called in a label.
RETRANSMISSION_TEXT = {"timeout": "timeout retransmission", "syn-timeout": "timeout retransmission",
                       "fast-retransmit": "fast retransmission",
                       "partial-ack": "retransmission after partial ACK"}


class Label(NamedTuple):
    protocol: str
    text: str
    #: "" for ordinary frames, else one of: syn, fin, rst, data, ack, dup-ack (the first
    #: three), dup-ack-repeat,
    #: window-update, zero-window, zero-window-probe, retransmission,
    #: fast-retransmission, text (an application line).
    kind: str = ""


_TEXTUAL = frozenset(range(0x20, 0x7F)) | {0x09, 0x0A, 0x0D}


def text_line(payload: bytes) -> str | None:
    """The first line of a payload that is text, or None. The payload must be text
    as a whole (its first 256 bytes all printable or line breaks): a bulk transfer's
    random bytes now and then begin with a few printable ones and a newline."""
    head = payload[:256]
    if not head or not all(b in _TEXTUAL for b in head):
        return None
    match = _TEXT_LINE.match(payload)
    if match is None:
        return None
    line = match.group().decode("ascii")
    return line if len(line) <= TEXT_LABEL_MAX else line[:TEXT_LABEL_MAX - 1] + "…"


class _Direction:
    """What the labeller remembers about one direction of a TCP connection."""
    __slots__ = ("isn", "highest", "last_ack", "last_window", "dups", "wscale", "window")

    def __init__(self, isn: int) -> None:
        self.isn = isn
        self.highest = 0              # end of the data seen so far (relative)
        self.last_ack: int | None = None
        self.last_window: int | None = None
        self.dups = 0
        self.wscale: int | None = None  # offered in this direction's SYN
        self.window: int | None = None  # the last window this direction advertised (bytes)


class Labeller:
    """Labels frames one after another (in the order they were sent), remembering
    each TCP direction's state and each UDP flow's datagram count."""

    def __init__(self) -> None:
        self._tcp: dict[tuple, _Direction] = {}
        self._udp_count: dict[tuple, int] = {}
        self._bpdus: dict[bytes, str] = {}        # sender MAC → its last BPDU's text
        #: (address, port) of each data connection end a control line announced →
        #: the data protocol it carries (FTP's PORT, 227 → FTP-DATA).
        self._data_ends: dict[tuple[bytes, int], str] = {}
        #: Connections (both directions' keys) that began with HTTP/2's preface in
        #: cleartext (h2c): each of their segments is HTTP/2's, mid-frame ones too.
        self._h2c: set[tuple] = set()

    def label(self, data: bytes, why: str = "") -> Label:
        """The label of one frame; ``why`` is the trace's trigger for it (``timeout``…)."""
        d = describe(data)
        if d.protocol == "ARP":
            # "ARP who-has 10.0.0.2 tell 10.0.0.1" → "ARP who-has 10.0.0.2": the arrow shows the asker.
            return Label("ARP", d.label.split(" tell ")[0])
        if d.protocol == "STP":
            return self._bpdu(data, d.label)
        protocol = registry.find(d.protocol)
        lines = protocol is not None and protocol.lines
        if d.protocol == "HTTP2" or self._h2c and d.protocol in ("TCP", "HTTP"):
            h2c = self._http2(data, d)
            if h2c is not None:
                return h2c
        if d.protocol not in ("ICMP", "UDP", "TCP") and not lines:
            return Label(d.protocol, d.label)     # labelled by its own bytes (DNS, DHCP, RARP)
        hlen = (data[14] & 0xF) * 4
        total = int.from_bytes(data[16:18], "big")
        l4 = data[14 + hlen:14 + total]
        ttl = data[22]
        if d.protocol == "ICMP":
            itype = l4[0]
            if itype in (0, 8):
                seq = int.from_bytes(l4[6:8], "big")
                return Label("ICMP", f"ICMP echo {'request' if itype == 8 else 'reply'} seq={seq}")
            return Label("ICMP", d.label.split(" (")[0])
        if d.protocol == "UDP":
            payload = l4[8:]
            if d.dport in TRACEROUTE_PORTS:
                return Label("UDP", f"UDP probe TTL={ttl}")
            line = text_line(payload)
            if line:
                return Label("UDP", line, "text")
            # Datagrams of one flow look alike: number them in the order they were sent.
            flow = (data[26:30], d.sport, data[30:34], d.dport)
            n = self._udp_count[flow] = self._udp_count.get(flow, 0) + 1
            return Label("UDP", f"UDP #{n} {d.sport} → {d.dport} ({len(payload)} B)")
        if d.protocol == "TCP" or lines:
            try:
                label = self._tcp_label(data, l4, why)
            except FrameError as exc:
                return Label("malformed", f"malformed TCP ({exc})")
            connection = self._data_connection(data, d, l4, label)
            if connection is not None:
                return connection
            # An application's command or reply line is drawn in its protocol's colour.
            return label._replace(protocol=d.protocol) if label.kind == "text" else label
        return Label(d.protocol, d.label)

    def _http2(self, data: bytes, d) -> Label | None:
        """A segment of an h2c connection: TCP's label where TCP has something to say
        (a retransmission, an ACK), else the frames it starts with — or, for a segment
        in the middle of a frame, what it continues."""
        key = (data[26:30], d.sport, data[30:34], d.dport)
        if d.protocol == "HTTP2" and d.label.startswith("HTTP2 Magic"):
            self._h2c.update({key, (key[2], key[3], key[0], key[1])})
        if key not in self._h2c:
            return None
        hlen = (data[14] & 0xF) * 4
        total = int.from_bytes(data[16:18], "big")
        try:
            label = self._tcp_label(data, data[14 + hlen:14 + total], "")
        except FrameError as exc:
            return Label("malformed", f"malformed TCP ({exc})")
        if label.kind not in ("text", "data"):
            return label._replace(protocol="HTTP2") if "retransmission" in label.kind else label
        text = d.label if d.protocol == "HTTP2" else "HTTP2 (a frame continued)"
        return Label("HTTP2", text, "data")

    def _data_connection(self, data: bytes, d, l4: bytes, label: Label) -> Label | None:
        """A protocol with data connections (FTP) in two colours: everything on its
        control connection (port 21) is its own; a data connection — from its data port
        (20), or to an address and port a control line announced (PORT, EPRT, 227, 229)
        — is its data protocol (FTP-DATA), its ports in the label."""
        control = next((p for p in (registry.on_port("tcp", d.dport), registry.on_port("tcp", d.sport))
                        if p is not None and p.data is not None), None)
        if control is not None:
            if label.kind == "text":
                self._announced(data, l4, control.data)
            return label._replace(protocol=control.name)
        src, dst = (data[26:30], d.sport), (data[30:34], d.dport)
        carried = (registry.data_protocol_on_port(d.sport) or registry.data_protocol_on_port(d.dport)
                   or self._data_ends.get(src) or self._data_ends.get(dst))
        if carried is None:
            return None
        if label.kind in ("text", "data"):
            # A file's bytes are data, even when they are text: no line of it is a command.
            length = len(l4) - (l4[12] >> 4) * 4
            return Label(carried, f"{d.sport} → {d.dport} data len={length}", "data")
        return label._replace(protocol=carried, text=f"{d.sport} → {d.dport} {label.text}")

    def _announced(self, data: bytes, l4: bytes, connections: registry.DataConnections) -> None:
        payload = l4[(l4[12] >> 4) * 4:].decode("ascii", "replace")
        for address, port in connections.announced(payload):
            self._data_ends[(data[26:30] if address is None else address, port)] = \
                connections.protocol

    def _bpdu(self, data: bytes, text: str) -> Label:
        """A BPDU, "STP BPDU root 4096/02:… cost 19": kind ``bpdu-repeat`` when the
        port said the same last time (a diagram's story leaves those out)."""
        sender = data[6:12]
        same = self._bpdus.get(sender) == text
        self._bpdus[sender] = text
        return Label("STP", text.replace("STP BPDU", "BPDU"), "bpdu-repeat" if same else "bpdu")

    def _tcp_label(self, data: bytes, l4: bytes, why: str) -> Label:
        src, dst = data[26:30], data[30:34]
        sport, dport, seq, ack, flags, raw_window, options, payload = h.parse_tcp(l4)
        key, back_key = (src, sport, dst, dport), (dst, dport, src, sport)
        me = self._tcp.get(key)
        if me is None or flags & 0x02 and me.isn != seq:
            me = self._tcp[key] = _Direction(seq)
        peer = self._tcp.get(back_key)
        rel_seq = (seq - me.isn) % (1 << 32)
        rel_ack = (ack - peer.isn) % (1 << 32) if peer is not None else ack
        names = [n for bit, n in _FLAG_NAMES if flags & bit]
        opts = h.parse_tcp_options(options) if options and flags & 0x02 else {}
        if flags & 0x02:
            opts = {k: v for k, v in opts.items() if k != "sack"}
        if flags & 0x02:
            me.wscale = opts.get("wscale")
        scaled = not flags & 0x02 and me.wscale is not None and peer is not None \
            and peer.wscale is not None
        window = raw_window << me.wscale if scaled else raw_window
        previous_window, me.window = me.window, window
        if flags & 0x04:
            return Label("TCP", "RST" + (f" ack={rel_ack}" if flags & 0x10 else ""), "rst")
        if flags & 0x02:
            text = ",".join(n for n in names if n != "PSH") + f" seq={rel_seq}"
            text += f" ack={rel_ack}" if flags & 0x10 else ""
            text += f" win={window}"
            if "mss" in opts:
                text += f" MSS={opts['mss']}"
            if opts.get("sack_perm"):
                text += " SACK_PERM"
            if "ts" in opts:
                text += " TS"
            if "wscale" in opts:
                text += f" WS={1 << opts['wscale']}"
            again = why in RETRANSMISSION_TEXT
            if again:
                text += " (timeout retransmission)"
            return Label("TCP", text, "retransmission" if again else "syn")
        if flags & 0x01:
            # Linux sends the FIN on the last data segment when the close came first.
            more = f" len={len(payload)}" if payload else ""
            return Label("TCP", f"FIN seq={rel_seq} ack={rel_ack}{more}", "fin")
        if payload:
            end = rel_seq + len(payload)
            again = end <= me.highest
            me.highest = max(end, me.highest)
            line = text_line(payload)
            if peer is not None and peer.window == 0 and len(payload) == 1:
                return Label("TCP", f"seq={rel_seq} len=1 (zero-window probe)", "zero-window-probe")
            if why in RETRANSMISSION_TEXT or again:
                what = RETRANSMISSION_TEXT.get(why, "retransmission")
                kind = "fast-retransmission" if why == "fast-retransmit" else "retransmission"
                text = line if line else f"seq={rel_seq} len={len(payload)}"
                return Label("TCP", f"{text} ({what})", kind)
            if line:
                # A reply of several lines written at once (EHLO's extensions, SELECT's
                # untagged data): its first line, and how many more there are.
                more = payload.count(b"\n") - 1
                return Label("TCP", f"{line} (+{more} lines)" if more > 0 else line, "text")
            return Label("TCP", f"seq={rel_seq} len={len(payload)}", "data")
        if peer is not None and peer.window == 0 and (rel_seq + 1) % (1 << 32) == me.highest:
            # Linux's probe of a closed window: no data, the sequence number below the next.
            return Label("TCP", f"ACK seq={rel_seq} (zero-window probe)", "zero-window-probe")
        text = f"ACK ack={rel_ack} win={window}"
        blocks = h.parse_tcp_options(options).get("sack") if options else None
        if blocks and peer is not None:
            # RFC 2018 blocks, relative as Wireshark shows them: what arrived past the hole.
            text += " SACK " + ",".join(f"{(a - peer.isn) % (1 << 32)}-{(b - peer.isn) % (1 << 32)}"
                                        for a, b in blocks)
        same_ack = me.last_ack == rel_ack
        me.last_ack = rel_ack
        if same_ack and previous_window is not None and window != previous_window:
            me.dups = 0
            return Label("TCP", f"{text} (window update)", "window-update")
        if window == 0:
            return Label("TCP", text + " (zero window)", "zero-window")
        if same_ack:
            me.dups += 1
            # The first three trigger fast retransmit (RFC 5681 §3.2); the rest repeat them.
            kind = "dup-ack" if me.dups <= 3 else "dup-ack-repeat"
            return Label("TCP", f"{text} (dup #{me.dups})", kind)
        me.dups = 0
        return Label("TCP", text, "ack")
