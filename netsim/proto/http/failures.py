"""What can go wrong with an HTTP response, and how each client says it.

An HTTP client connection (:mod:`netsim.proto.http.client`) sorts every failure into
one *kind*, and the tool on top words it: a browser as Chrome does
(``net/base/net_error_list.h``), ``http-get`` as curl does (``curl: (8) Weird server
reply`` — the number is curl's exit code, the text its error buffer). h11 says what was
wrong in a :class:`h11.RemoteProtocolError`; :func:`kind_of` turns that into a kind.

==========================  =================================================  ===============================================
kind                        Chrome                                             curl
==========================  =================================================  ===============================================
``invalid``                 net::ERR_INVALID_RESPONSE                          (8) Weird server reply
``not_http``                net::ERR_INVALID_HTTP_RESPONSE                     (1) Received HTTP/0.9 when not allowed
``headers_too_big``         net::ERR_RESPONSE_HEADERS_TOO_BIG                  (56) Too large response headers
``content_length``          net::ERR_INVALID_RESPONSE                          (8) Invalid Content-Length
``multiple_length``         net::ERR_RESPONSE_HEADERS_MULTIPLE_CONTENT_LENGTH  (8) Weird server reply
``chunked``                 net::ERR_INVALID_CHUNKED_ENCODING                  (56) … in chunked-encoding
``incomplete_chunked``      net::ERR_INCOMPLETE_CHUNKED_ENCODING               (18) transfer closed with outstanding read data …
``length_mismatch``         net::ERR_CONTENT_LENGTH_MISMATCH                   (18) transfer closed with N bytes remaining …
``truncated``               net::ERR_RESPONSE_HEADERS_TRUNCATED                (52) Empty reply from server
``empty``                   net::ERR_EMPTY_RESPONSE                            (52) Empty reply from server
``reset``                   net::ERR_CONNECTION_RESET                          (56) Recv failure: Connection reset by peer
``timeout``                 net::ERR_TIMED_OUT                                 (28) Operation timed out after N milliseconds …
``tls_certificate``         NET::ERR_CERT_AUTHORITY_INVALID,                   (60) SSL certificate problem: …
                            NET::ERR_CERT_COMMON_NAME_INVALID,                 (60) SSL: no alternative certificate subject
                            NET::ERR_CERT_DATE_INVALID                         name matches target host name '…'
``tls_handshake``           net::ERR_SSL_PROTOCOL_ERROR                        (35) TLS connect error: …
==========================  =================================================  ===============================================

A TLS failure's detail is the layer's :class:`~netsim.proto.tls.layer.TlsError`: which
fault a refused certificate has (authority, name, date) and OpenSSL's words for it.

``empty`` and ``reset`` before any byte of a response are what a persistent connection
that the server closed as the request crossed it looks like: a browser sends such a
request again on a new connection (RFC 9112 §9.3.1), so those kinds are *retryable*.
"""

from __future__ import annotations

from dataclasses import dataclass

import h11

#: Failures after which an idempotent request may go again on a new connection.
RETRYABLE = frozenset({"empty", "reset"})

#: How much of a response head a client reads before it gives up: Chrome's
#: kMaxHeaderBufSize (256 KiB), curl's CURL_MAX_HTTP_HEADER (100 KiB).
CHROME_HEADER_LIMIT = 256 * 1024
CURL_HEADER_LIMIT = 100 * 1024


def kind_of(exc: h11.RemoteProtocolError, *, in_body: bool) -> str:
    """The kind of failure h11's complaint is (its messages are the only detail it
    gives; anything unrecognised is an invalid response)."""
    text = str(exc)
    if exc.error_status_hint == 431 or "buffer too long" in text:
        return "headers_too_big"
    if "conflicting Content-Length" in text:
        return "multiple_length"
    if "Content-Length" in text:
        return "content_length"
    if "incomplete chunked read" in text:
        return "incomplete_chunked"
    if "peer closed connection without sending complete message body" in text:
        return "length_mismatch"
    if in_body and "chunk" in text:
        return "chunked"
    if "peer unexpectedly closed" in text:
        return "truncated"
    if "illegal request line" in text or ("illegal status line" in text
                                          and "(b'HTTP/" not in text):
        return "not_http"                 # the first line is not a status line at all
    return "invalid"


@dataclass(frozen=True)
class Wording:
    """One tool's words for a failure: ``response(kind, detail)`` and ``connect(reason,
    host, port)`` (reason: "Connection refused", "Network is unreachable", "Connection
    timed out")."""
    name: str

    def response(self, kind: str, **detail) -> str:
        raise NotImplementedError

    def connect(self, reason: str, host: str, port: int) -> str:
        raise NotImplementedError


class _Chrome(Wording):
    CODES = {"invalid": "INVALID_RESPONSE", "not_http": "INVALID_HTTP_RESPONSE",
             "headers_too_big": "RESPONSE_HEADERS_TOO_BIG",
             "content_length": "INVALID_RESPONSE",
             "multiple_length": "RESPONSE_HEADERS_MULTIPLE_CONTENT_LENGTH",
             "chunked": "INVALID_CHUNKED_ENCODING",
             "incomplete_chunked": "INCOMPLETE_CHUNKED_ENCODING",
             "length_mismatch": "CONTENT_LENGTH_MISMATCH",
             "truncated": "RESPONSE_HEADERS_TRUNCATED", "empty": "EMPTY_RESPONSE",
             "reset": "CONNECTION_RESET", "timeout": "TIMED_OUT",
             "http2": "HTTP2_PROTOCOL_ERROR", "quic": "QUIC_PROTOCOL_ERROR",
             "quic_timeout": "QUIC_HANDSHAKE_FAILED"}
    CONNECT = {"Connection refused": "CONNECTION_REFUSED",
               "Network is unreachable": "ADDRESS_UNREACHABLE",
               "Connection timed out": "CONNECTION_TIMED_OUT"}

    CERT = {"authority": "CERT_AUTHORITY_INVALID", "name": "CERT_COMMON_NAME_INVALID",
            "date": "CERT_DATE_INVALID"}

    def response(self, kind: str, **detail) -> str:
        if kind == "tls_certificate":
            # The interstitial's code, in capitals as Chrome shows it ("Your connection
            # is not private … NET::ERR_CERT_AUTHORITY_INVALID").
            return f"NET::ERR_{self.CERT.get(detail['error'].fault, 'CERT_INVALID')}"
        if kind == "tls_handshake":
            alert = detail["error"].alert
            if alert in ("handshake failure", "protocol version", "insufficient security"):
                return "net::ERR_SSL_VERSION_OR_CIPHER_MISMATCH"
            return "net::ERR_SSL_PROTOCOL_ERROR"
        return f"net::ERR_{self.CODES[kind]}"

    def connect(self, reason: str, host: str, port: int) -> str:
        return f"net::ERR_{self.CONNECT.get(reason, 'CONNECTION_FAILED')}"


class _Curl(Wording):
    """curl 8's messages (lib/http.c, lib/http_chunks.c, lib/transfer.c, lib/multi.c)."""

    def response(self, kind: str, **detail) -> str:
        code, text = self.exit(kind, **detail)
        return text

    @staticmethod
    def exit(kind: str, **detail) -> tuple[int, str]:
        if kind == "not_http":
            return 1, "Received HTTP/0.9 when not allowed"
        if kind == "headers_too_big":
            return 56, f"Too large response headers: {detail.get('size', 0)} > {CURL_HEADER_LIMIT}"
        if kind == "content_length":
            return 8, f"Invalid Content-Length: {detail.get('value', '')}".rstrip()
        if kind == "chunked":
            return 56, "Illegal or missing hexadecimal sequence in chunked-encoding"
        if kind == "incomplete_chunked":
            return 18, "transfer closed with outstanding read data remaining"
        if kind == "length_mismatch":
            return 18, f"transfer closed with {detail.get('remaining', 0)} bytes remaining to read"
        if kind in ("empty", "truncated"):
            return 52, "Empty reply from server"
        if kind == "reset":
            return 56, "Recv failure: Connection reset by peer"
        if kind == "timeout":
            return 28, (f"Operation timed out after {detail.get('ms', 0):.0f} milliseconds "
                        f"with {detail.get('received', 0)} bytes received")
        if kind == "http2":
            return 16, "Error in the HTTP2 framing layer"
        if kind in ("quic", "quic_timeout"):
            return 95, f"HTTP/3 error: {detail.get('why', 'QUIC connection failed')}"
        if kind == "tls_certificate":
            error = detail.get("error")
            if error is not None and error.fault == "name":
                # lib/vtls/openssl.c's verifyhost(): curl checks the name itself.
                return 60, ("SSL: no alternative certificate subject name matches target "
                            f"host name '{error.hostname}'")
            return 60, f"SSL certificate problem: {error.verify_message if error else ''}"
        if kind == "tls_handshake":
            error = detail.get("error")
            return 35, f"TLS connect error: {error.message if error else 'handshake failed'}"
        return 8, "Weird server reply"

    def connect(self, reason: str, host: str, port: int) -> str:
        return f"Failed to connect to {host} port {port}: {reason}"


class _Library(_Curl):
    """A scripted client (rest-client, soap-client, poller): curl's words for a response,
    ``connect: <reason>`` for a connection it could not make."""

    def connect(self, reason: str, host: str, port: int) -> str:
        return f"connect: {reason}"


CHROME = _Chrome("chrome")
CURL = _Curl("curl")
LIBRARY = _Library("library")


def curl_exit_code(kind: str | None) -> int:
    """curl's exit status for a failure of ``kind`` (0: none)."""
    return 0 if kind is None else _Curl.exit(kind)[0]
