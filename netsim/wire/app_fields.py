"""The application-layer half of :mod:`netsim.wire.fields`: DNS, DHCP, HTTP/1.x, POP3,
IMAP and a TLS record's boundaries, each read from its bytes as Wireshark's dissector
reads them, into the fields :data:`~netsim.wire.field_names.FIELDS` names. What needs a
connection's history (which segment completes an HTTP message, SMTP's DATA phase, FTP's
data ports) is :class:`~netsim.wire.fields.CaptureFields`'s; these are the readers it
calls."""

from __future__ import annotations

from netsim.wire.field_names import FIELDS


def put(f: dict, name: str, *values) -> None:
    """Add occurrences of a field (an ICMP error's quoted header adds a second)."""
    f.setdefault(name, []).extend(values)


DHCP_MAGIC = b"\x63\x82\x53\x63"


# HTTP header → its Wireshark field (the ones tshark names; others it shows as text).
HTTP_HEADERS = {"host": "http.host", "location": "http.location", "cookie": "http.cookie",
                 "set-cookie": "http.set_cookie", "content-length": "http.content_length",
                 "last-modified": "http.last_modified",
                 "cache-control": "http.cache_control", "connection": "http.connection",
                 "user-agent": "http.user_agent", "server": "http.server",
                 "content-type": "http.content_type"}


def client_hello(payload: bytes) -> bool:
    """Whether bytes start with a TLS ClientHello (RFC 8446 §5.1, §4: a handshake
    record, version 3.0–3.4, handshake type 1): how Wireshark's heuristic finds TLS on
    a port it does not know — not by any record's look, which random bytes can have."""
    return len(payload) >= 9 and payload[0] == 22 and payload[1] == 3 and payload[2] <= 4 \
        and payload[5] == 1


class TlsRecords:
    """One direction of a TLS connection, cut into records (RFC 8446 §5.1: a 5-byte
    header, then as many bytes as it says). Wireshark shows ``tls`` on a segment in
    which a record starts or ends: one in the middle of a long record is only TCP."""

    def __init__(self) -> None:
        self.header = b""               # the start of a header cut by a segment's end
        self.missing = 0                # bytes of the current record still to come

    def between(self) -> bool:
        """Whether the bytes so far end where a record ends."""
        return not self.header and not self.missing

    def add(self, data: bytes) -> bool:
        """Whether Wireshark shows ``tls`` on a segment of these bytes: one in which a
        record starts or ends (its TLS dissector is called there)."""
        ended = False
        while data:
            ended = ended or self.between()
            if self.missing:
                taken = min(self.missing, len(data))
                self.missing -= taken
                data = data[taken:]
                ended = ended or self.missing == 0
                continue
            wanted = 5 - len(self.header)
            self.header, data = self.header + data[:wanted], data[wanted:]
            if len(self.header) == 5:
                self.missing = int.from_bytes(self.header[3:5], "big")
                self.header = b""
                ended = ended or self.missing == 0
        return ended


class HttpStream:
    """One direction of an HTTP connection: bytes in order, cut into whole messages."""

    def __init__(self, seq: int) -> None:
        self.next = seq
        self.buffer = b""
        self.fresh = True               # nothing read yet

    def add(self, seq: int, payload: bytes) -> list[bytes]:
        self.fresh = False
        if seq != self.next:            # a retransmission or a gap: tshark does not
            if (seq - self.next) % 2**32 > 2**31:   # dissect old bytes again
                return []
            self.buffer = b""           # a gap: start again at what came
        self.next = (seq + len(payload)) % 2**32
        self.buffer += payload
        out = []
        while True:
            size = http_message_size(self.buffer)
            if size is None:
                return out
            out.append(self.buffer[:size])
            self.buffer = self.buffer[size:]


def http_message_size(buffer: bytes) -> int | None:
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


def http_start(line: bytes) -> bool:
    """Whether a line is an HTTP/1.x request or status line (RFC 9112 §3, §4)."""
    parts = line.split(b" ", 2)
    return len(parts) >= 2 and (parts[0].startswith(b"HTTP/1.") and parts[1].isdigit()
                                or len(parts) == 3 and parts[2].startswith(b"HTTP/1."))


def http_fields(message: bytes, f: dict, *, request: bool) -> None:
    head = message[:message.find(b"\r\n\r\n")].decode("latin-1").split("\r\n")
    start = head[0].split(" ", 2)
    f["http"] = [True]
    if request and len(start) == 3:
        put(f, "http.request", True)
        f.setdefault("http.request.method", []).append(start[0])
        f.setdefault("http.request.uri", []).append(start[1])
        f.setdefault("http.request.version", []).append(start[2])
    elif not request and len(start) >= 2 and start[1].isdigit():
        put(f, "http.response", True)
        f.setdefault("http.response.version", []).append(start[0])
        f.setdefault("http.response.code", []).append(int(start[1]))
        f.setdefault("http.response.phrase", []).append(start[2] if len(start) > 2 else "")
    for line in head[1:]:
        put(f, "http.request.line" if request else "http.response.line", line + "\r\n")
        name, sep, value = line.partition(":")
        field = HTTP_HEADERS.get(name.strip().lower())
        if sep and field:
            value = value.strip()
            f.setdefault(field, []).append(int(value) if FIELDS[field] is int and value.isdigit()
                                           else value)


def first_line(payload: bytes) -> str:
    """A segment's first line: where Wireshark reads FTP's and POP's fields."""
    return next(iter(text_lines(payload)), "")


def pop_fields(payload: bytes, f: dict, *, request: bool) -> None:
    f["pop"] = [True]
    line = first_line(payload)
    if request:
        command, _, parameter = line.partition(" ")
        f["pop.request.command"] = [command]
        if parameter:
            f["pop.request.parameter"] = [parameter]
    elif line[:1] in "+-":
        f["pop.response.indicator"] = [line.split(" ", 1)[0]]


def imap_fields(payload: bytes, f: dict, *, request: bool) -> None:
    f["imap"] = [True]
    if request:
        parts = next(iter(text_lines(payload)), "").split(" ")
        if len(parts) >= 2:
            f["imap.request_tag"], f["imap.request.command"] = [parts[0]], [parts[1]]


def text_lines(payload: bytes) -> list[str]:
    return [line.decode("latin-1") for line in payload.split(b"\r\n") if line]


def ftp_address(text: str) -> tuple[str, int]:
    """``h1,h2,h3,h4,p1,p2`` (RFC 959 §4.1.2) as an address and port."""
    numbers = [int(n) for n in text.strip().split(",")]
    return ".".join(map(str, numbers[:4])), numbers[4] * 256 + numbers[5]


def dns_fields(payload: bytes, f: dict) -> None:
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
              "dns.count.answers": [sum(len(r) for r in m.answer)],
              "dns.count.auth_rr": [sum(len(r) for r in m.authority)]})
    # A query's AA, RA and RCODE bits mean nothing (RFC 1035 §4.1.1): Wireshark shows
    # them on responses only, so `dns.flags.rcode == 0` picks no query.
    if m.flags & dns.flags.QR:
        f["dns.flags.rcode"] = [m.flags & 0xF]      # the header's four bits, not EDNS's extension
        f["dns.flags.recavail"] = [bool(m.flags & dns.flags.RA)]
        f["dns.flags.authoritative"] = [bool(m.flags & dns.flags.AA)]
    for q in m.question:
        f.setdefault("dns.qry.name", []).append(dns_name(q.name))
        f.setdefault("dns.qry.type", []).append(int(q.rdtype))
    by_type = {dns.rdatatype.A: ("dns.a", lambda r: r.address),
               dns.rdatatype.CNAME: ("dns.cname", lambda r: dns_name(r.target)),
               dns.rdatatype.NS: ("dns.ns", lambda r: dns_name(r.target)),
               dns.rdatatype.MX: ("dns.mx.mail_exchange",
                                  lambda r: dns_name(r.exchange))}
    for section in (m.answer, m.authority, m.additional):
        for rrset in section:
            if rrset.rdtype in by_type:
                name, value = by_type[rrset.rdtype]
                f.setdefault(name, []).extend(value(r) for r in rrset)


def dns_name(name) -> str:
    """A name as Wireshark writes it: no final dot, and the root as ``<Root>``."""
    return name.to_text(omit_final_dot=True) if len(name) > 1 else "<Root>"


def dhcp_fields(payload: bytes, f: dict) -> None:
    if len(payload) < 240 or payload[236:240] != DHCP_MAGIC:
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
