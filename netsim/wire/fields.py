"""A frame's fields under Wireshark's display-filter names, read the way tshark reads a
capture: ``ip.src``, ``tcp.flags.syn``, ``dns.qry.name``, ``http.response.code``,
``ftp.request.command``, ``smtp.req.command``.

:class:`CaptureFields` reads one link's frames in capture order, as tshark reads one
pcap, because some fields depend on what came before on the same connection:
``tcp.seq`` is relative to the connection's first sequence number; an HTTP message's
fields sit on the segment that completes it (tshark reassembles headers and a
``Content-Length`` or chunked body); SMTP lines after ``354`` are message content, not
commands, until the lone ``.`` (RFC 5321 §4.1.1.4). Every field maps to a list of values
(a DNS answer may hold several ``dns.a``), as in Wireshark, where ``==`` asks whether
any occurrence matches.

Only what these readers know is named: :data:`FIELDS` is the list a filter is checked
against before a run. A TLS record's content is not read (its bytes are ciphertext).
"""

from __future__ import annotations

from netsim.errors import FrameError
from netsim.wire import headers as h
from netsim.wire.addr import bytes_to_mac, int_to_ip

#: Every field name a filter may use, with the type of its values.
FIELDS: dict[str, type] = {
    "frame.len": int,
    "eth.src": str, "eth.dst": str, "eth.addr": str, "eth.type": int,
    "arp": bool, "arp.opcode": int, "arp.src.proto_ipv4": str, "arp.dst.proto_ipv4": str,
    "arp.src.hw_mac": str, "arp.dst.hw_mac": str,
    "ip": bool, "ip.src": str, "ip.dst": str, "ip.addr": str, "ip.ttl": int, "ip.proto": int,
    "ip.id": int, "ip.len": int, "ip.flags.df": bool,
    "icmp": bool, "icmp.type": int, "icmp.code": int, "icmp.ident": int, "icmp.seq": int,
    "udp": bool, "udp.srcport": int, "udp.dstport": int, "udp.port": int, "udp.length": int,
    "tcp": bool, "tcp.srcport": int, "tcp.dstport": int, "tcp.port": int, "tcp.len": int,
    "tcp.seq": int, "tcp.ack": int, "tcp.seq_raw": int, "tcp.ack_raw": int,
    "tcp.window_size_value": int, "tcp.flags.syn": bool, "tcp.flags.ack": bool,
    "tcp.flags.fin": bool, "tcp.flags.reset": bool, "tcp.flags.push": bool,
    "dns": bool, "dns.id": int, "dns.flags.response": bool, "dns.flags.recdesired": bool,
    "dns.flags.recavail": bool, "dns.flags.authoritative": bool, "dns.flags.rcode": int,
    "dns.qry.name": str, "dns.qry.type": int, "dns.count.answers": int,
    "dns.count.auth_rr": int, "dns.a": str, "dns.cname": str, "dns.ns": str,
    "dns.mx.mail_exchange": str,
    "dhcp": bool, "dhcp.option.dhcp": int,
    "http": bool, "http.request": bool, "http.response": bool, "http.request.method": str,
    "http.request.uri": str, "http.request.version": str, "http.response.code": int,
    "http.response.phrase": str, "http.response.version": str, "http.host": str,
    "http.location": str, "http.cookie": str, "http.set_cookie": str,
    "http.content_length": int, "http.if_none_match": str, "http.if_modified_since": str,
    "http.cache_control": str, "http.connection": str, "http.user_agent": str,
    "http.server": str, "http.content_type": str,
    "ftp": bool, "ftp.request": bool, "ftp.response": bool, "ftp.request.command": str,
    "ftp.request.arg": str, "ftp.response.code": int, "ftp.response.arg": str,
    "ftp-data": bool,
    "smtp": bool, "smtp.req": bool, "smtp.rsp": bool, "smtp.req.command": str,
    "smtp.req.parameter": str, "smtp.response.code": int,
    "pop": bool, "pop.request.command": str, "pop.request.parameter": str,
    "pop.response.indicator": str,
    "imap": bool, "imap.request.tag": str, "imap.request.command": str,
    "tls": bool,
}

_DHCP_MAGIC = b"\x63\x82\x53\x63"
# HTTP header → its Wireshark field (the ones tshark names; others it shows as text).
_HTTP_HEADERS = {"host": "http.host", "location": "http.location", "cookie": "http.cookie",
                 "set-cookie": "http.set_cookie", "content-length": "http.content_length",
                 "if-none-match": "http.if_none_match",
                 "if-modified-since": "http.if_modified_since",
                 "cache-control": "http.cache_control", "connection": "http.connection",
                 "user-agent": "http.user_agent", "server": "http.server",
                 "content-type": "http.content_type"}
_TLS_CONTENT_TYPES = (20, 21, 22, 23)


class CaptureFields:
    """Reads one link's frames in order and gives each frame's fields."""

    def __init__(self, ports: dict[str, dict[int, str]] | None = None) -> None:
        # transport → port → protocol name ("dns", "http", "ftp", "smtp", …): the
        # well-known ports a scenario's servers listen on.
        self.ports = ports or {"udp": {53: "dns", 67: "dhcp", 68: "dhcp"},
                               "tcp": {80: "http", 8080: "http", 21: "ftp", 25: "smtp",
                                       587: "smtp", 110: "pop", 143: "imap", 443: "tls",
                                       465: "tls", 993: "tls", 995: "tls"}}
        self._isn: dict[tuple, int] = {}          # (src, sport, dst, dport) → first seq
        self._streams: dict[tuple, _Stream] = {}  # one direction of a connection
        self._smtp_data: set[tuple] = set()       # connections in SMTP's DATA phase
        self._ftp_data: set[tuple] = set()        # (address, port) a PORT/227 named

    def fields(self, data: bytes) -> dict[str, list]:
        found: dict[str, list] = {"frame.len": [len(data)]}
        try:
            self._ethernet(data, found)
        except (FrameError, IndexError, ValueError):
            pass                        # what was read before the bad byte stands
        return found

    # -- link and network --------------------------------------------------------
    def _ethernet(self, data: bytes, f: dict) -> None:
        dst, src, ethertype = h.ETHER.unpack_from(data)
        f["eth.dst"], f["eth.src"] = [bytes_to_mac(dst)], [bytes_to_mac(src)]
        f["eth.addr"] = f["eth.src"] + f["eth.dst"]
        f["eth.type"] = [ethertype]
        if ethertype == h.ETHERTYPE_ARP:
            op, sha, spa, tha, tpa = h.parse_arp(data)
            f.update({"arp": [True], "arp.opcode": [op], "arp.src.hw_mac": [bytes_to_mac(sha)],
                      "arp.dst.hw_mac": [bytes_to_mac(tha)], "arp.src.proto_ipv4": [int_to_ip(spa)],
                      "arp.dst.proto_ipv4": [int_to_ip(tpa)]})
        elif ethertype == h.ETHERTYPE_IPV4:
            self._ipv4(data, f)

    def _ipv4(self, data: bytes, f: dict) -> None:
        hlen, total, ttl, proto, src, dst = h.parse_ipv4(data)
        s, d = int_to_ip(src), int_to_ip(dst)
        ident = int.from_bytes(data[h.IP_OFF + 4:h.IP_OFF + 6], "big")
        f.update({"ip": [True], "ip.src": [s], "ip.dst": [d], "ip.addr": [s, d], "ip.ttl": [ttl],
                  "ip.proto": [proto], "ip.id": [ident], "ip.len": [total],
                  "ip.flags.df": [bool(data[h.IP_OFF + 6] & 0x40)]})
        l4 = h.ip_payload(data, hlen, total)
        if proto == h.IPPROTO_ICMP and len(l4) >= 8:
            itype, code, _c, w1, w2 = h.ICMP.unpack_from(l4)
            f.update({"icmp": [True], "icmp.type": [itype], "icmp.code": [code]})
            if itype in (0, 8):
                f["icmp.ident"], f["icmp.seq"] = [w1], [w2]
        elif proto == h.IPPROTO_UDP and len(l4) >= 8:
            sport, dport, ulen, _c = h.UDP.unpack_from(l4)
            f.update({"udp": [True], "udp.srcport": [sport], "udp.dstport": [dport],
                      "udp.port": [sport, dport], "udp.length": [ulen]})
            app = self.ports["udp"].get(dport) or self.ports["udp"].get(sport)
            if app == "dns":
                _dns(l4[8:ulen], f)
            elif app == "dhcp":
                _dhcp(l4[8:ulen], f)
        elif proto == h.IPPROTO_TCP:
            self._tcp(s, d, l4, f)

    # -- TCP and what rides on it --------------------------------------------------
    def _tcp(self, s: str, d: str, segment: bytes, f: dict) -> None:
        sport, dport, seq, ack, flags, window, _opts, payload = h.parse_tcp(segment)
        key, back = (s, sport, d, dport), (d, dport, s, sport)
        if flags & h.TCP_SYN:
            self._isn[key] = seq
            self._streams.pop(key, None)
        isn = self._isn.setdefault(key, seq - 1 if payload or flags & h.TCP_FIN else seq)
        f.update({"tcp": [True], "tcp.srcport": [sport], "tcp.dstport": [dport],
                  "tcp.port": [sport, dport], "tcp.len": [len(payload)],
                  "tcp.seq_raw": [seq], "tcp.seq": [(seq - isn) % 2**32],
                  "tcp.ack_raw": [ack], "tcp.window_size_value": [window],
                  "tcp.flags.syn": [bool(flags & h.TCP_SYN)], "tcp.flags.ack": [bool(flags & h.TCP_ACK)],
                  "tcp.flags.fin": [bool(flags & h.TCP_FIN)], "tcp.flags.reset": [bool(flags & h.TCP_RST)],
                  "tcp.flags.push": [bool(flags & h.TCP_PSH)]})
        if flags & h.TCP_ACK:
            f["tcp.ack"] = [(ack - self._isn[back]) % 2**32] if back in self._isn else [0]
        if not payload:
            return
        client = self.ports["tcp"].get(dport)
        app = client or self.ports["tcp"].get(sport)
        if (d, dport) in self._ftp_data or (s, sport) in self._ftp_data:
            f["ftp-data"] = [True]
            return
        if app == "tls" or (payload[0] in _TLS_CONTENT_TYPES and payload[1:2] == b"\x03"):
            f["tls"] = [True]
            return
        conn = frozenset((key, back))
        if app == "http":
            stream = self._streams.setdefault(key, _Stream(seq))
            for message in stream.add(seq, payload):
                _http(message, f, request=client is not None)
        elif app == "ftp":
            self._ftp(payload, f, request=client is not None)
        elif app == "smtp":
            self._smtp(conn, payload, f, request=client is not None)
        elif app == "pop":
            _pop(payload, f, request=client is not None)
        elif app == "imap":
            _imap(payload, f, request=client is not None)

    def _ftp(self, payload: bytes, f: dict, *, request: bool) -> None:
        f["ftp"] = [True]
        for line in _lines(payload):
            if request:
                command, _, arg = line.partition(" ")
                f.setdefault("ftp.request", [True])
                f.setdefault("ftp.request.command", []).append(command)
                f.setdefault("ftp.request.arg", []).append(arg)
                if command.upper() == "PORT":
                    self._ftp_data.add(_ftp_address(arg))
            elif len(line) >= 3 and line[:3].isdigit():
                f.setdefault("ftp.response", [True])
                f.setdefault("ftp.response.code", []).append(int(line[:3]))
                f.setdefault("ftp.response.arg", []).append(line[4:])
                if line.startswith("227") and "(" in line:
                    self._ftp_data.add(_ftp_address(line[line.index("(") + 1:line.rindex(")")]))

    def _smtp(self, conn: frozenset, payload: bytes, f: dict, *, request: bool) -> None:
        f["smtp"] = [True]
        if request and conn in self._smtp_data:
            if payload.endswith(b"\r\n.\r\n") or payload == b".\r\n":
                self._smtp_data.discard(conn)
            return                      # message content (tshark: imf), not commands
        for line in _lines(payload):
            if request:
                command, _, parameter = line.partition(" ")
                f.setdefault("smtp.req", [True])
                f.setdefault("smtp.req.command", []).append(command)
                if parameter:
                    f.setdefault("smtp.req.parameter", []).append(parameter)
            elif len(line) >= 3 and line[:3].isdigit():
                f.setdefault("smtp.rsp", [True])
                f.setdefault("smtp.response.code", []).append(int(line[:3]))
                if line.startswith("354"):
                    self._smtp_data.add(conn)


class _Stream:
    """One direction of an HTTP connection: bytes in order, cut into whole messages."""

    def __init__(self, seq: int) -> None:
        self.next = seq
        self.buffer = b""

    def add(self, seq: int, payload: bytes) -> list[bytes]:
        if seq != self.next:            # a retransmission or a gap: tshark does not
            if (seq - self.next) % 2**32 > 2**31:   # dissect old bytes again
                return []
            self.buffer = b""           # a gap: start again at what came
        self.next = (seq + len(payload)) % 2**32
        self.buffer += payload
        out = []
        while True:
            size = _http_message_size(self.buffer)
            if size is None:
                return out
            out.append(self.buffer[:size])
            self.buffer = self.buffer[size:]


def _http_message_size(buffer: bytes) -> int | None:
    """The length of the whole HTTP/1.x message at the buffer's start, or None while
    it is incomplete (RFC 9112 §6.3: Content-Length, chunked, or no body)."""
    end = buffer.find(b"\r\n\r\n")
    if end < 0:
        return None
    head = buffer[:end].decode("latin-1").lower().split("\r\n")
    start = head[0]
    headers = dict(line.split(":", 1) for line in head[1:] if ":" in line)
    body = end + 4
    status = start.split(" ")[1] if start.startswith("http/") and " " in start else ""
    if status[:1] == "1" or status in ("204", "304"):
        return body
    if "chunked" in headers.get("transfer-encoding", ""):
        at = body
        while True:
            line_end = buffer.find(b"\r\n", at)
            if line_end < 0:
                return None
            size = int(buffer[at:line_end].split(b";")[0] or b"0", 16)
            at = line_end + 2 + size + 2
            if size == 0:               # the last chunk, trailers, an empty line
                end = buffer.find(b"\r\n\r\n", line_end)
                return end + 4 if end >= 0 else None
            if at > len(buffer):
                return None
    length = int(headers.get("content-length", "0").strip() or 0)
    return body + length if len(buffer) >= body + length else None


def _http(message: bytes, f: dict, *, request: bool) -> None:
    head = message[:message.find(b"\r\n\r\n")].decode("latin-1").split("\r\n")
    start = head[0].split(" ", 2)
    f["http"] = [True]
    if request and len(start) == 3:
        f.setdefault("http.request", [True])
        f.setdefault("http.request.method", []).append(start[0])
        f.setdefault("http.request.uri", []).append(start[1])
        f.setdefault("http.request.version", []).append(start[2])
    elif not request and len(start) >= 2 and start[1].isdigit():
        f.setdefault("http.response", [True])
        f.setdefault("http.response.version", []).append(start[0])
        f.setdefault("http.response.code", []).append(int(start[1]))
        f.setdefault("http.response.phrase", []).append(start[2] if len(start) > 2 else "")
    for line in head[1:]:
        name, sep, value = line.partition(":")
        field = _HTTP_HEADERS.get(name.strip().lower())
        if sep and field:
            value = value.strip()
            f.setdefault(field, []).append(int(value) if FIELDS[field] is int and value.isdigit()
                                           else value)


def _pop(payload: bytes, f: dict, *, request: bool) -> None:
    f["pop"] = [True]
    line = next(iter(_lines(payload)), "")
    if request:
        command, _, parameter = line.partition(" ")
        f["pop.request.command"] = [command]
        if parameter:
            f["pop.request.parameter"] = [parameter]
    elif line[:1] in "+-":
        f["pop.response.indicator"] = [line.split(" ", 1)[0]]


def _imap(payload: bytes, f: dict, *, request: bool) -> None:
    f["imap"] = [True]
    if request:
        parts = next(iter(_lines(payload)), "").split(" ")
        if len(parts) >= 2:
            f["imap.request.tag"], f["imap.request.command"] = [parts[0]], [parts[1]]


def _lines(payload: bytes) -> list[str]:
    return [line.decode("latin-1") for line in payload.split(b"\r\n") if line]


def _ftp_address(text: str) -> tuple[str, int]:
    """``h1,h2,h3,h4,p1,p2`` (RFC 959 §4.1.2) as an address and port."""
    numbers = [int(n) for n in text.strip().split(",")]
    return ".".join(map(str, numbers[:4])), numbers[4] * 256 + numbers[5]


def _dns(payload: bytes, f: dict) -> None:
    import dns.exception
    import dns.flags
    import dns.message
    import dns.rdatatype
    try:
        m = dns.message.from_wire(payload)
    except (dns.exception.DNSException, ValueError):
        return
    f.update({"dns": [True], "dns.id": [m.id], "dns.flags.response": [bool(m.flags & dns.flags.QR)],
              "dns.flags.recdesired": [bool(m.flags & dns.flags.RD)],
              "dns.flags.rcode": [m.rcode()], "dns.count.answers": [sum(len(r) for r in m.answer)],
              "dns.count.auth_rr": [sum(len(r) for r in m.authority)]})
    if m.flags & dns.flags.QR:
        f["dns.flags.recavail"] = [bool(m.flags & dns.flags.RA)]
        f["dns.flags.authoritative"] = [bool(m.flags & dns.flags.AA)]
    for q in m.question:
        f.setdefault("dns.qry.name", []).append(q.name.to_text(omit_final_dot=True))
        f.setdefault("dns.qry.type", []).append(int(q.rdtype))
    by_type = {dns.rdatatype.A: ("dns.a", lambda r: r.address),
               dns.rdatatype.CNAME: ("dns.cname", lambda r: r.target.to_text(omit_final_dot=True)),
               dns.rdatatype.NS: ("dns.ns", lambda r: r.target.to_text(omit_final_dot=True)),
               dns.rdatatype.MX: ("dns.mx.mail_exchange",
                                  lambda r: r.exchange.to_text(omit_final_dot=True))}
    for section in (m.answer, m.authority, m.additional):
        for rrset in section:
            if rrset.rdtype in by_type:
                name, value = by_type[rrset.rdtype]
                f.setdefault(name, []).extend(value(r) for r in rrset)


def _dhcp(payload: bytes, f: dict) -> None:
    if len(payload) < 240 or payload[236:240] != _DHCP_MAGIC:
        return
    f["dhcp"] = [True]
    at = 240
    while at + 1 < len(payload) and payload[at] != 255:
        if payload[at] == 0:
            at += 1
            continue
        code, length = payload[at], payload[at + 1]
        if code == 53 and length == 1:
            f["dhcp.option.dhcp"] = [payload[at + 2]]
        at += 2 + length


def same_packet(a: bytes, b: bytes) -> bool:
    """Whether two frames carry the same IP packet, as a router's forwarded copy carries
    the one it received: the same addresses, id, protocol and transport header (the
    TTL, the header checksum and the MAC addresses change on the way)."""
    if len(a) < 42 or len(b) < 42 or a[12:14] != b"\x08\x00" or b[12:14] != b"\x08\x00":
        return False
    la, lb = 14 + (a[14] & 0xF) * 4, 14 + (b[14] & 0xF) * 4
    return (a[26:34] == b[26:34] and a[18:20] == b[18:20] and a[23] == b[23]
            and a[la:la + 8] == b[lb:lb + 8] and len(a) - la == len(b) - lb)
