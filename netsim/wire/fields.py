"""A frame's fields under Wireshark's display-filter names, read the way tshark reads a
capture: ``ip.src``, ``tcp.flags.syn``, ``dns.qry.name``, ``http.response.code``,
``ftp.request.command``, ``smtp.req.command``.

:class:`CaptureFields` reads one link's frames in capture order, as tshark reads one
pcap, because some fields depend on what came before on the same connection:
``tcp.seq`` is relative to the connection's first sequence number; an HTTP message's
fields sit on the segment that completes it (tshark reassembles headers and a
``Content-Length`` or chunked body), ``tls`` on the segments where a record starts or
ends; a client's SMTP lines after ``DATA`` are message content, not commands, until the
lone ``.`` (RFC 5321 §4.1.1.4); a retransmission carries TCP's fields only, as tshark
gives it to no protocol above (except a fast retransmission, read again). TCP analysis
(``tcp.analysis.retransmission``, ``.fast_retransmission``, ``.duplicate_ack``, …) is
Wireshark's too: what each direction's segments so far suggest of this one. Every field
maps to a list of values (a DNS answer may hold several ``dns.a``; an ICMP error's
quoted datagram adds a second ``ip.src``, ``ip.ttl``, ``udp.dstport``), as in Wireshark,
where ``==`` asks whether any occurrence matches.

Only what these readers know is named: :data:`FIELDS` is the list a filter is checked
against before a run, and each name is one tshark 4 knows, with the values it shows
(``tests/check/test_filters_agree_with_tshark.py`` holds them to it). A TLS record's
content is not read (its bytes are ciphertext), nor QUIC: tshark decrypts a QUIC
Initial packet with keys its connection ID gives (RFC 9001 §5.2) and shows the TLS
handshake inside as ``tls``, which netsim does not.
"""

from __future__ import annotations

from netsim.errors import FrameError
from netsim.wire import headers as h
from netsim.wire.addr import bytes_to_mac, int_to_ip
from netsim.wire.app_fields import (HttpStream, TlsRecords, client_hello, dhcp_fields, dns_fields,
                                     first_line, ftp_address, http_fields, http_start,
                                     imap_fields, pop_fields, put, text_lines)
from netsim.wire.field_names import FIELDS  # noqa: F401 — re-exported: netsim.wire.fields.FIELDS
from netsim.wire.tcp_analysis import Flow, analysis_events, before, window_scale


class CaptureFields:
    """Reads one link's frames in order and gives each frame's fields."""

    def __init__(self, ports: dict[str, dict[int, str]] | None = None) -> None:
        # transport → port → protocol name ("dns", "http", "ftp", "smtp", …): the
        # well-known ports a scenario's servers listen on.
        self.ports = ports or {"udp": {53: "dns", 67: "dhcp", 68: "dhcp"},
                               "tcp": {80: "http", 8080: "http", 21: "ftp", 25: "smtp",
                                       587: "smtp", 110: "pop", 143: "imap", 443: "tls",
                                       465: "tls", 993: "tls", 995: "tls"}}
        self._base: dict[tuple, int] = {}         # (src, sport, dst, dport) → relative 0
        self._flows: dict[tuple, Flow] = {}      # direction → what TCP analysis remembers
        self._said: dict[tuple, dict] = {}        # (direction, seq, len) → a segment's app fields
        self._time: float | None = None           # the frame's capture time, when given
        self._syn_time: dict[frozenset, float] = {}  # connection → its latest SYN's time
        self._irtt: dict[frozenset, float] = {}   # connection → SYN to handshake's ACK
        self._streams: dict[tuple, HttpStream] = {}  # one direction of a connection
        self._records: dict[tuple, TlsRecords] = {} # one direction of a TLS connection
        self._tls: set[frozenset] = set()         # connections speaking TLS on no TLS port
        self._starttls: set[frozenset] = set()    # connections whose STARTTLS awaits its answer
        self._not_http1: set[frozenset] = set()   # past a 101, or from HTTP/2's preface on
        self._smtp_data: set[tuple] = set()       # connections in SMTP's DATA phase
        self._ftp_data: set[tuple] = set()        # (address, port) a PORT/227 named

    def fields(self, data: bytes, time: float | None = None) -> dict[str, list]:
        """The frame's fields. ``time`` (seconds) is its capture time: Wireshark tells a
        fast retransmission, which it dissects again, by the duplicate ACKs just before."""
        self._time = time
        found: dict[str, list] = {"frame": [data.decode("latin-1")], "frame.len": [len(data)]}
        try:
            self._ethernet(data, found)
        except (FrameError, IndexError, ValueError):
            pass                        # what was read before the bad byte stands
        return found

    # -- link and network --------------------------------------------------------
    def _ethernet(self, data: bytes, f: dict) -> None:
        dst, src, ethertype = h.ETHER.unpack_from(data)
        f["eth.dst"], f["eth.src"] = [bytes_to_mac(dst)], [bytes_to_mac(src)]
        f["eth.addr"] = f["eth.dst"] + f["eth.src"]
        if ethertype >= 0x600:          # else an IEEE 802.3 length (STP's LLC frames): no type
            f["eth.type"] = [ethertype]
        # Wireshark's ARP dissector reads RARP too (RFC 903: ARP's format, opcodes 3, 4).
        if ethertype in (h.ETHERTYPE_ARP, h.ETHERTYPE_RARP):
            op, sha, spa, tha, tpa = h.parse_arp(data)
            f.update({"arp": [True], "arp.opcode": [op], "arp.src.hw_mac": [bytes_to_mac(sha)],
                      "arp.dst.hw_mac": [bytes_to_mac(tha)], "arp.src.proto_ipv4": [int_to_ip(spa)],
                      "arp.dst.proto_ipv4": [int_to_ip(tpa)]})
        elif ethertype == h.ETHERTYPE_IPV4:
            self._ipv4(data, f)

    def _ipv4(self, data: bytes, f: dict) -> None:
        hlen, total, _ttl, proto, src, dst = h.parse_ipv4(data)
        _ip_header(data[h.IP_OFF:], f)
        l4 = h.ip_payload(data, hlen, total)
        if proto == h.IPPROTO_ICMP and len(l4) >= 8:
            _icmp(l4, f)
            if l4[0] in _ICMP_ERRORS:
                self._quoted(l4[8:], f)
        elif proto == h.IPPROTO_UDP and len(l4) >= 8:
            self._udp(l4, f)
        elif proto == h.IPPROTO_TCP:
            self._tcp(int_to_ip(src), int_to_ip(dst), l4, f)

    def _quoted(self, datagram: bytes, f: dict) -> None:
        """The datagram an ICMP error quotes (RFC 792; RFC 1812 §4.3.2.3: as much as
        fits in 576 bytes), read as Wireshark reads it: a second occurrence of every
        field of its IP header and transport header, so ``ip.ttl == 1`` picks the Time
        Exceeded a traceroute probe caused and ``udp.dstport`` its probe port. A quoted
        TCP header's numbers are shown raw: no connection is followed through it."""
        if len(datagram) < 20 or datagram[0] >> 4 != 4:
            return
        hlen = (datagram[0] & 0xF) * 4
        _ip_header(datagram, f)
        inner, proto = datagram[hlen:], datagram[9]
        if proto == h.IPPROTO_ICMP and len(inner) >= 8:
            _icmp(inner, f)
        elif proto == h.IPPROTO_UDP and len(inner) >= 8:
            self._udp(inner, f)
        elif proto == h.IPPROTO_TCP and len(inner) >= 4:
            _quoted_tcp(inner, f, {p for p, app in self.ports["tcp"].items() if app == "http"})

    def _udp(self, l4: bytes, f: dict) -> None:
        sport, dport, ulen, _c = h.UDP.unpack_from(l4)
        put(f, "udp", True)
        put(f, "udp.srcport", sport)
        put(f, "udp.dstport", dport)
        put(f, "udp.port", sport, dport)
        put(f, "udp.length", ulen)
        app = self.ports["udp"].get(dport) or self.ports["udp"].get(sport)
        if app == "dns":
            dns_fields(l4[8:ulen], f)
        elif app == "dhcp":
            dhcp_fields(l4[8:ulen], f)

    # -- TCP and what rides on it --------------------------------------------------
    def _tcp(self, s: str, d: str, segment: bytes, f: dict) -> None:
        sport, dport, seq, ack, flags, window, options, payload = h.parse_tcp(segment)
        key, back = (s, sport, d, dport), (d, dport, s, sport)
        if flags & h.TCP_SYN:
            for table in (self._streams, self._records):
                table.pop(key, None)
        isn, peer = self._bases(key, back, seq, ack, flags)
        f.update({"tcp": [True], "tcp.srcport": [sport], "tcp.dstport": [dport],
                  "tcp.port": [sport, dport], "tcp.len": [len(payload)],
                  "tcp.seq_raw": [seq], "tcp.seq": [(seq - isn) % 2**32],
                  "tcp.ack_raw": [ack], "tcp.window_size_value": [window],
                  "tcp.flags.syn": [bool(flags & h.TCP_SYN)], "tcp.flags.ack": [bool(flags & h.TCP_ACK)],
                  "tcp.flags.fin": [bool(flags & h.TCP_FIN)], "tcp.flags.reset": [bool(flags & h.TCP_RST)],
                  "tcp.flags.push": [bool(flags & h.TCP_PSH)]})
        # Without the ACK flag the field is no number of the peer's: shown as it is.
        f["tcp.ack"] = [(ack - peer) % 2**32 if flags & h.TCP_ACK else ack]
        fwd, rev = self._flows.setdefault(key, Flow()), self._flows.setdefault(back, Flow())
        if flags & h.TCP_SYN:
            window_scale(fwd, rev, flags, options)
        analysis = self._analysis(fwd, rev, seq, flags, payload, self._first_rtt(key, back, flags))
        fast = "tcp.analysis.fast_retransmission" in analysis
        fresh = self._fresh(fwd, seq, flags, payload)
        analysis += analysis_events(fwd, rev, seq, ack, flags, window, payload)
        if fwd.seen(seq, ack, flags, window, payload, self._time):
            analysis.append("tcp.analysis.duplicate_ack")
        f.update({name: [True] for name in analysis})
        if analysis:
            f["tcp.analysis.flags"] = [True]     # Wireshark: any analysis flag at all
        said = (key, seq, len(payload))
        if fast and said in self._said:
            f.update({name: list(values) for name, values in self._said[said].items()})
        elif fresh:
            before = set(f)
            start = (seq + len(payload) - len(fresh)) % 2**32
            whole = self._application(key, back, start, fresh, f)
            added = {name: f[name] for name in f if name not in before}
            if whole and added and fresh is payload:
                self._said[said] = added

    def _first_rtt(self, key: tuple, back: tuple, flags: int) -> float | None:
        """The connection's initial RTT as this link sees it: from the latest SYN to the
        first ACK of the handshake (Wireshark's ``tcp.analysis.initial_rtt``), or None
        before that ACK."""
        conn = frozenset((key, back))
        if flags & (h.TCP_SYN | h.TCP_ACK) == h.TCP_SYN and self._time is not None:
            self._syn_time[conn] = self._time
        elif (flags & (h.TCP_SYN | h.TCP_ACK) == h.TCP_ACK and conn not in self._irtt
              and conn in self._syn_time):
            self._irtt[conn] = self._time - self._syn_time[conn]
        return self._irtt.get(conn)

    def _analysis(self, fwd: Flow, rev: Flow, seq: int, flags: int, payload: bytes,
                  irtt: float | None) -> list[str]:
        """Wireshark's flags for a segment that does not advance its direction's sequence
        number (packet-tcp.c, tcp_analyze_sequence_number), in Wireshark 4.0's order: a
        fast retransmission resends what two or more duplicate ACKs of the peer asked
        for, within 20 ms of the last (RFC 5681 §3.2); out of order comes within the
        initial RTT (3 ms without a handshake) of the highest segment; spurious resends
        what the peer has already acknowledged; otherwise a plain retransmission. A fast
        or spurious one is a retransmission too (Wireshark adds both fields)."""
        if not (payload or flags & (h.TCP_SYN | h.TCP_FIN)) or self._time is None:
            return []
        if fwd.next is None or fwd.keep_alive(seq, flags, payload):
            return []
        seglen, now = len(payload), self._time
        # A segment one byte behind that carries more is taken for new data after a
        # zero-window probe, not for a retransmission.
        behind = before(seq, fwd.next) and not (seglen > 1 and seq == (fwd.next - 1) % 2**32)
        if (behind and rev.dupacks >= 2 and rev.lastack == seq
                and rev.lastacktime is not None and now - rev.lastacktime < 0.02):
            return ["tcp.analysis.fast_retransmission", "tcp.analysis.retransmission"]
        if (behind and fwd.nexttime is not None and now - fwd.nexttime < (irtt or 0.003)
                and fwd.next != (seq + seglen) % 2**32):
            return ["tcp.analysis.out_of_order"]
        if seglen and rev.lastack is not None and not before(rev.lastack, (seq + seglen) % 2**32):
            return ["tcp.analysis.spurious_retransmission", "tcp.analysis.retransmission"]
        return ["tcp.analysis.retransmission"] if behind else []

    @staticmethod
    def _fresh(fwd: Flow, seq: int, flags: int, payload: bytes) -> bytes:
        """The bytes of a segment this direction has not carried before. Wireshark gives
        a retransmission — or a segment that fills a hole late — to no protocol above
        TCP (its ``tcp.no_subdissector_on_error``): a resent ``USER`` is no second
        command, a resent body segment no second response."""
        start = (seq + 1) % 2**32 if flags & h.TCP_SYN else seq
        if fwd.next is None or flags & h.TCP_SYN or not before(start, fwd.next):
            return payload                  # at or past what was seen: all new
        old = (fwd.next - start) % 2**32
        return payload[old:] if old < len(payload) else b""

    def _application(self, key: tuple, back: tuple, seq: int, payload: bytes, f: dict) -> bool:
        """What rides on TCP, chosen as Wireshark chooses: an FTP data connection that
        a PORT or 227 announced, then the server's well-known port, then TLS by the look
        of a ClientHello on a port that names nothing. True when the segment holds
        whole messages (or lines): a fast retransmission of it is read the same again,
        while Wireshark's reassembly refuses a resent piece of a longer message."""
        (s, sport, d, dport), conn = key, frozenset((key, back))
        client = self.ports["tcp"].get(dport)
        app = client or self.ports["tcp"].get(sport)
        request = client is not None
        if (d, dport) in self._ftp_data or (s, sport) in self._ftp_data:
            f["ftp-data"] = [True]
            return True
        if app == "tls" or conn in self._tls or app is None and client_hello(payload):
            if app != "tls":
                self._tls.add(conn)
            records = self._records.setdefault(key, TlsRecords())
            whole = records.between()
            if records.add(payload):
                f["tls"] = [True]
            return whole and records.between()
        if app == "http":
            return self._http(conn, key, seq, payload, f, request=request)
        if app == "ftp":
            self._ftp(payload, f, request=request)
        elif app == "smtp":
            self._smtp(conn, payload, f, request=request)
        elif app == "pop":
            pop_fields(payload, f, request=request)
        elif app == "imap":
            imap_fields(payload, f, request=request)
        if app in ("smtp", "pop", "imap"):
            self._upgrade(conn, app, payload, request)
        return True

    def _http(self, conn: frozenset, key: tuple, seq: int, payload: bytes, f: dict, *,
              request: bool) -> bool:
        """HTTP/1.x messages, each on the segment that completes it (Wireshark
        reassembles headers and body) — until the connection leaves HTTP/1: after a
        ``101 Switching Protocols`` (RFC 9110 §15.2.2: a WebSocket, h2c) or from
        HTTP/2's connection preface (RFC 9113 §3.4) on, Wireshark reads it as another
        protocol. True when the segment held whole messages."""
        if conn in self._not_http1:
            return False
        stream = self._streams.setdefault(key, HttpStream(seq))
        if request and stream.fresh and payload.startswith(b"PRI * HTTP/2.0\r\n"):
            self._not_http1.add(conn)
            return False
        whole = not stream.buffer
        for message in stream.add(seq, payload):
            http_fields(message, f, request=request)
            if not request and message.startswith((b"HTTP/1.1 101", b"HTTP/1.0 101")):
                self._not_http1.add(conn)
                return False
        return whole and not stream.buffer

    def _upgrade(self, conn: frozenset, app: str, payload: bytes, request: bool) -> None:
        """STARTTLS (SMTP, RFC 3207; IMAP, RFC 9051 §6.2.1) or STLS (POP3, RFC 2595 §4):
        once the server agrees, the rest of the connection is TLS."""
        line = payload.split(b"\r\n", 1)[0].upper()
        if request:
            words = line.split(b" ")
            asked = {"smtp": words[0] == b"STARTTLS", "pop": words[0] == b"STLS",
                     "imap": len(words) > 1 and words[1] == b"STARTTLS"}[app]
            if asked:
                self._starttls.add(conn)
        elif conn in self._starttls:
            self._starttls.discard(conn)
            words = line.split(b" ")
            agreed = {"smtp": line.startswith(b"220"), "pop": line.startswith(b"+OK"),
                      "imap": len(words) > 1 and words[1] == b"OK"}[app]
            if agreed:
                self._tls.add(conn)

    def _bases(self, key: tuple, back: tuple, seq: int, ack: int, flags: int) -> tuple[int, int]:
        """What ``tcp.seq`` and ``tcp.ack`` count from, as Wireshark keeps them: a SYN's
        sequence number (RFC 9293 §3.4.1: the ISN), else — a capture joined mid-stream
        — the first segment's number less one; the peer's from the first ACK seen
        (less one) when its SYN was not. A SYN without ACK starts a connection anew,
        so the peer's is forgotten too (a port used again)."""
        if flags & h.TCP_SYN:
            self._base[key] = seq
            if not flags & h.TCP_ACK:
                self._base.pop(back, None)
        base = self._base.setdefault(key, (seq - 1) % 2**32)
        if flags & h.TCP_ACK:
            self._base.setdefault(back, (ack - 1) % 2**32)
        return base, self._base.get(back, 0)

    def _ftp(self, payload: bytes, f: dict, *, request: bool) -> None:
        """A control-connection segment (RFC 959 §4.2). Wireshark reads its first line
        only: the rest of a multi-line reply (``214-…`` to ``214 …``), or a second
        command sent in the same segment, is text without fields."""
        f.update({"ftp": [True], "ftp.request": [request], "ftp.response": [not request]})
        line = first_line(payload)
        if request:
            command, _, arg = line.partition(" ")
            f["ftp.request.command"] = [command]
            if arg:
                f["ftp.request.arg"] = [arg]
            if command.upper() == "PORT":
                self._ftp_data.add(ftp_address(arg))
        elif len(line) >= 3 and line[:3].isdigit():
            f["ftp.response.code"] = [int(line[:3])]
            if line[4:]:
                f["ftp.response.arg"] = [line[4:]]
            if line.startswith("227") and "(" in line:
                self._ftp_data.add(ftp_address(line[line.index("(") + 1:line.rindex(")")]))

    def _smtp(self, conn: frozenset, payload: bytes, f: dict, *, request: bool) -> None:
        """An SMTP segment (RFC 5321 §4.1). As Wireshark reads it, the client's lines
        after its ``DATA`` command are message content — whatever the server answers:
        after a refused DATA, the client's next commands too — until the lone ``.``
        (§4.1.1.4). A reply's ``250-`` continuation lines (§4.2.1) add no code."""
        f["smtp"] = [True]
        if request and conn in self._smtp_data:
            if payload.endswith(b"\r\n.\r\n") or payload == b".\r\n":
                self._smtp_data.discard(conn)
            return                      # message content (tshark: imf), not commands
        continued = False
        for line in text_lines(payload):
            if request:
                # Wireshark's command is a line's first four characters, its parameter
                # what follows the fifth: STARTTLS reads as "STAR" and "TLS".
                command, parameter = line[:4], line[5:]
                put(f, "smtp.req", True)
                put(f, "smtp.req.command", command)
                if parameter:
                    put(f, "smtp.req.parameter", parameter)
                if command.upper() == "DATA":
                    self._smtp_data.add(conn)
                    break
            elif len(line) >= 3 and line[:3].isdigit():
                f["smtp.rsp"] = [True]
                if not continued:
                    put(f, "smtp.response.code", int(line[:3]))
                continued = line[3:4] == "-"


#: ICMP types that quote the datagram they are about (RFC 792): destination
#: unreachable, source quench, redirect, time exceeded, parameter problem.
_ICMP_ERRORS = (3, 4, 5, 11, 12)


def _ip_header(header: bytes, f: dict) -> None:
    s = int_to_ip(int.from_bytes(header[12:16], "big"))
    d = int_to_ip(int.from_bytes(header[16:20], "big"))
    put(f, "ip", True)
    for name, value in (("ip.src", s), ("ip.dst", d), ("ip.ttl", header[8]),
                        ("ip.proto", header[9]),
                        ("ip.id", int.from_bytes(header[4:6], "big")),
                        ("ip.len", int.from_bytes(header[2:4], "big")),
                        ("ip.flags.df", bool(header[6] & 0x40))):
        put(f, name, value)
    put(f, "ip.addr", s, d)


def _icmp(l4: bytes, f: dict) -> None:
    itype, code, _c, w1, w2 = h.ICMP.unpack_from(l4)
    put(f, "icmp", True)
    put(f, "icmp.type", itype)
    put(f, "icmp.code", code)
    if itype in (0, 8):
        put(f, "icmp.ident", w1)
        put(f, "icmp.seq", w2)


def _quoted_tcp(header: bytes, f: dict, http_ports: set) -> None:
    """What Wireshark shows of a TCP header an ICMP error quotes: the ports from its
    first 4 bytes, the sequence number from 8 (RFC 792 promises 8), the rest only
    when all 20 came — raw numbers, and no ``tcp.len``."""
    sport, dport = h.U16.unpack_from(header)[0], h.U16.unpack_from(header, 2)[0]
    put(f, "tcp", True)
    put(f, "tcp.srcport", sport)
    put(f, "tcp.dstport", dport)
    put(f, "tcp.port", sport, dport)
    if len(header) >= 8:
        put(f, "tcp.seq", int.from_bytes(header[4:8], "big"))   # (and no tcp.seq_raw)
    if len(header) < 20:
        return
    _s, _d, _seq, ack, offset_flags, window, _c, _u = h.TCP.unpack_from(header)
    put(f, "tcp.ack", ack)
    put(f, "tcp.ack_raw", ack)
    put(f, "tcp.window_size_value", window)
    for name, bit in _TCP_FLAGS:
        put(f, name, bool(offset_flags & bit))
    payload = header[(offset_flags >> 12) * 4:]
    if payload and (sport in http_ports or dport in http_ports):
        # Without reassembly: the header lines the quote holds — or, for a segment
        # of a body, nothing but `http` (Wireshark: "Continuation").
        head = payload.split(b"\r\n\r\n")[0]
        if http_start(head.split(b"\r\n")[0]):
            http_fields(head + b"\r\n\r\n", f, request=dport in http_ports)
        else:
            f["http"] = [True]


_TCP_FLAGS = (("tcp.flags.syn", h.TCP_SYN), ("tcp.flags.ack", h.TCP_ACK),
              ("tcp.flags.fin", h.TCP_FIN), ("tcp.flags.reset", h.TCP_RST),
              ("tcp.flags.push", h.TCP_PSH))


def packet_key(data: bytes):
    """What stays the same of an IP packet as routers forward it — its addresses, id,
    protocol, transport header and length (the TTL, the header checksum and the MAC
    addresses change on the way) — or None for a frame that is not IPv4."""
    if len(data) < 42 or data[12:14] != b"\x08\x00":
        return None
    l4 = 14 + (data[14] & 0xF) * 4
    return (data[26:34], data[18:20], data[23], data[l4:l4 + 8], len(data) - l4)
