"""TLS as the rest of netsim knows it (RFC 8446 §5, RFC 5246 §6.2): records on the TLS
ports, labelled as a textbook draws the handshake — ``ClientHello (SNI www.example.com,
ALPN http/1.1)``, ``ServerHello``, ``ChangeCipherSpec``, ``Application Data (1,391 B)`` —
from the record headers and the cleartext handshake messages alone. TLS 1.3 sends its
EncryptedExtensions, Certificate, CertificateVerify and Finished inside records that
read as ``Application Data``: they are drawn in braces, ``{EncryptedExtensions,
Certificate, CertificateVerify, Finished}``, as RFC 8446 marks what the handshake keys
protect."""

from netsim.wire.registry import Protocol, register

_CONTENT = {20: "ChangeCipherSpec", 21: "Alert", 22: "Handshake", 23: "Application Data"}
_HANDSHAKE = {1: "ClientHello", 2: "ServerHello", 4: "NewSessionTicket", 8: "EncryptedExtensions",
              11: "Certificate", 12: "ServerKeyExchange", 13: "CertificateRequest",
              14: "ServerHelloDone", 15: "CertificateVerify", 16: "ClientKeyExchange",
              20: "Finished"}


def _client_hello(body: bytes) -> str:
    """``ClientHello (SNI …, ALPN …)`` from a ClientHello's extensions (RFC 8446 §4.1.2)."""
    try:
        at = 4 + 2 + 32                                   # header, version, random
        at += 1 + body[at]                                # session id
        at += 2 + int.from_bytes(body[at:at + 2], "big")  # cipher suites
        at += 1 + body[at]                                # compression methods
        end = at + 2 + int.from_bytes(body[at:at + 2], "big")
        at += 2
        sni = alpn = None
        while at + 4 <= min(end, len(body)):
            kind, size = int.from_bytes(body[at:at + 2], "big"), int.from_bytes(body[at + 2:at + 4], "big")
            data = body[at + 4:at + 4 + size]
            if kind == 0 and len(data) > 5:
                sni = data[5:5 + int.from_bytes(data[3:5], "big")].decode("ascii", "replace")
            elif kind == 16 and len(data) > 2:
                names, k = [], 2
                while k < len(data):
                    names.append(data[k + 1:k + 1 + data[k]].decode("ascii", "replace"))
                    k += 1 + data[k]
                alpn = ",".join(names)
            at += 4 + size
    except IndexError:
        return "ClientHello"
    parts = [f"SNI {sni}" if sni else "", f"ALPN {alpn}" if alpn else ""]
    parts = [p for p in parts if p]
    return "ClientHello" + (f" ({', '.join(parts)})" if parts else "")


def _is_tls13_server_hello(body: bytes) -> bool:
    """Whether a ServerHello chose TLS 1.3: its supported_versions extension says 0x0304
    (RFC 8446 §4.1.3, §4.2.1; the legacy version field says 1.2 either way)."""
    try:
        at = 4 + 2 + 32
        at += 1 + body[at] + 2 + 1                        # session id, cipher suite, compression
        end = at + 2 + int.from_bytes(body[at:at + 2], "big")
        at += 2
        while at + 4 <= min(end, len(body)):
            kind, size = int.from_bytes(body[at:at + 2], "big"), int.from_bytes(body[at + 2:at + 4], "big")
            if kind == 43:
                return body[at + 4:at + 6] == b"\x03\x04"
            at += 4 + size
    except IndexError:
        pass
    return False


#: A TLS 1.3 server's first encrypted flight, by how many records it took (OpenSSL
#: sends each message in a record of its own): a full handshake, and one resumed with a
#: pre-shared key, which proves itself with Finished alone (RFC 8446 §2, §2.2).
_SERVER_FLIGHT = {4: "EncryptedExtensions, Certificate, CertificateVerify, Finished",
                  2: "EncryptedExtensions, Finished"}


def tls_label(payload: bytes) -> str | None:
    """The records a segment starts with, in order; None when it does not start a record.

    TLS 1.3 sends its handshake after the ServerHello inside records that read as
    Application Data; they are named in braces, RFC 8446's mark for messages protected
    with the handshake keys: the server's flight after a ServerHello that chose 1.3, and
    the client's Finished — the record after its compatibility ChangeCipherSpec (a TLS
    1.2 Finished after ChangeCipherSpec is a Handshake record)."""
    names, at, plain = [], 0, True
    tls13_server = after_ccs = False
    flight: list[int] = []                 # the server's encrypted handshake records
    while at + 5 <= len(payload):
        kind, major, size = payload[at], payload[at + 1], int.from_bytes(payload[at + 3:at + 5], "big")
        if kind not in _CONTENT or major != 3:
            break
        body = payload[at + 5:at + 5 + size]
        if kind == 23 and tls13_server:
            flight.append(size)
        elif kind == 23 and after_ccs:
            names.append("{Finished}")    # the client's, TLS 1.3
        elif kind == 22 and plain and body:
            name = _HANDSHAKE.get(body[0], "Encrypted Handshake Message")
            names.append(_client_hello(body) if body[0] == 1 else name)
            tls13_server = tls13_server or body[0] == 2 and _is_tls13_server_hello(body)
        elif kind == 22:
            names.append("Encrypted Handshake Message")
        elif kind == 23:
            names.append(f"Application Data ({size:,} B)")
        else:
            names.append(_CONTENT[kind])
        after_ccs = kind == 20 and not tls13_server
        if kind == 20:
            plain = False                                 # TLS 1.2: what follows is encrypted
        at += 5 + size
    if flight:
        names.append("{" + _SERVER_FLIGHT.get(len(flight), f"encrypted handshake ×{len(flight)}") + "}")
    if not names:
        return None
    # Several records of one kind in a row are one entry: "Application Data ×4".
    merged: list[str] = []
    for name in names:
        if merged and merged[-1].split(" ×")[0] == name and name.startswith("Application"):
            count = int(merged[-1].split(" ×")[1]) + 1 if " ×" in merged[-1] else 2
            merged[-1] = f"{name} ×{count}"
        else:
            merged.append(name)
    return "TLS " + ", ".join(merged)


#: STARTTLS (RFC 3207, RFC 2595) hands SMTP's, POP's and IMAP's connections over to TLS.
TLS = register(Protocol("TLS", "#6c3483", tcp_ports=(443, 465, 993, 995),
                        stream_label=tls_label, tshark="TLS", upgrades_from=("SMTP", "POP", "IMAP")))
