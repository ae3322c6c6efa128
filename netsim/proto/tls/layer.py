"""TLS 1.3 (RFC 8446) and 1.2 (RFC 5246) as the layer between a socket and a stream
engine: the standard library's :mod:`ssl` (OpenSSL) over memory BIOs, sans-I/O.

The layer has the calls of :class:`~netsim.proto.stream.Passthrough` — socket bytes in,
plaintext out; plaintext in, socket bytes out — so any engine runs over it unchanged. It
never reads a clock: OpenSSL only ever sees bytes, and the simulated time of each flight
is the time the driver hands the bytes over.

A handshake the layer cannot finish — a certificate the client refuses, an alert from the
peer, bytes that are not TLS — raises :class:`TlsError` (a
:class:`~netsim.errors.PeerError`); the alert OpenSSL queued for the peer, if any, is then
waiting in :meth:`TlsLayer.pending` for the driver to send before it closes, as a real
stack sends it.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass

from netsim.errors import PeerError

# OpenSSL's X509_V_ERR_* codes (x509_vfy.h) that a scenario's faults produce, and what a
# browser calls each (Chromium's net/cert/cert_status_flags.h).
_VERIFY_FAULT = {
    2: "authority",     # unable to get issuer certificate
    18: "authority",    # self-signed certificate
    19: "authority",    # self-signed certificate in certificate chain
    20: "authority",    # unable to get local issuer certificate
    21: "authority",    # unable to verify the first certificate
    9: "date",          # certificate is not yet valid
    10: "date",         # certificate has expired
    62: "name",         # hostname mismatch
    64: "name",         # IP address mismatch
}


class TlsError(PeerError):
    """A TLS handshake or record the layer cannot accept.

    ``kind``: ``certificate`` (we refused the peer's certificate: ``fault`` is
    ``authority``, ``name`` or ``date``, ``verify_message`` OpenSSL's words for it),
    ``alert`` (the peer sent an alert: ``alert`` is its description, e.g. ``unknown ca``),
    or ``protocol`` (the bytes are not a TLS exchange we can take).
    """

    def __init__(self, message: str, *, kind: str, fault: str | None = None,
                 verify_code: int | None = None, verify_message: str | None = None,
                 alert: str | None = None, hostname: str | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.fault = fault
        self.verify_code = verify_code
        self.verify_message = verify_message
        self.alert = alert
        self.hostname = hostname


@dataclass(frozen=True)
class TlsInfo:
    """What a finished handshake agreed, for the application's output and the summary."""
    version: str            # "TLSv1.3"
    cipher: str             # "TLS_AES_256_GCM_SHA384"
    alpn: str | None
    resumed: bool
    server_name: str | None

    def as_dict(self) -> dict:
        return {"version": self.version, "cipher": self.cipher, "alpn": self.alpn,
                "resumed": self.resumed, "server_name": self.server_name}


def _alert_text(exc: ssl.SSLError) -> str | None:
    """``TLSV1_ALERT_UNKNOWN_CA`` → ``unknown ca`` (the alert's RFC 8446 §6 name)."""
    reason = exc.reason or ""
    for prefix in ("TLSV1_ALERT_", "SSLV3_ALERT_", "TLSV13_ALERT_"):
        if reason.startswith(prefix):
            return reason[len(prefix):].lower().replace("_", " ")
    return None


class TlsLayer:
    """One side of one TLS connection. Build with :meth:`client` or :meth:`server`."""

    def __init__(self, context: ssl.SSLContext, *, server_side: bool,
                 server_hostname: str | None = None, session: ssl.SSLSession | None = None):
        self._in = ssl.MemoryBIO()
        self._out = ssl.MemoryBIO()
        self._tls = context.wrap_bio(self._in, self._out, server_side=server_side,
                                     server_hostname=server_hostname, session=session)
        self.server_side = server_side
        self.server_hostname = server_hostname
        self._done = False
        self.closed_by_peer = False         # a close_notify came
        self.error: TlsError | None = None

    @classmethod
    def client(cls, context: ssl.SSLContext, server_hostname: str | None,
               session: ssl.SSLSession | None = None) -> "TlsLayer":
        return cls(context, server_side=False, server_hostname=server_hostname,
                   session=session)

    @classmethod
    def server(cls, context: ssl.SSLContext) -> "TlsLayer":
        return cls(context, server_side=True)

    # -- the layer's calls ----------------------------------------------------------------

    def start(self, now: float) -> bytes:
        """The client's ClientHello; nothing from a server, which waits for one."""
        if not self.server_side:
            self._handshake()
        return self._out.read()

    def receive(self, data: bytes, now: float) -> tuple[bytes, bytes]:
        if self.error is not None:
            return b"", b""
        self._in.write(data)
        plain = bytearray()
        if not self._done:
            self._handshake()
        if self._done:
            self._read_into(plain)
        return bytes(plain), self._out.read()

    def send(self, data: bytes) -> bytes:
        if data and self.error is None:
            self._tls.write(data)
        return self._out.read()

    def ready(self) -> bool:
        return self._done

    def close(self) -> bytes:
        """The close_notify alert (RFC 8446 §6.1) a real stack sends before its FIN."""
        if self._done and self.error is None and not self.closed_by_peer:
            try:
                self._tls.unwrap()
            except ssl.SSLWantReadError:
                pass                         # the peer's close_notify need not come
            except ssl.SSLError:
                pass                         # already shut on the peer's side
        return self._out.read()

    def pending(self) -> bytes:
        """Bytes OpenSSL queued and not yet taken (an alert after a failure)."""
        return self._out.read()

    # -- what the handshake agreed ---------------------------------------------------------

    def info(self) -> TlsInfo:
        cipher = self._tls.cipher()
        return TlsInfo(version=self._tls.version() or "", cipher=cipher[0] if cipher else "",
                       alpn=self._tls.selected_alpn_protocol(),
                       resumed=self._tls.session_reused,
                       server_name=self.server_hostname)

    def peer_certificate(self) -> dict:
        """The peer's certificate as ``ssl`` decodes a verified one (empty when it was not
        verified, as with ``verify: false``)."""
        return self._tls.getpeercert() or {}

    def peer_certificate_der(self) -> bytes | None:
        """The peer's certificate as it was sent (DER), verified or not."""
        return self._tls.getpeercert(binary_form=True)

    @property
    def session(self) -> ssl.SSLSession | None:
        """The session to resume on a next connection (a TLS 1.3 ticket arrives after the
        handshake, so this is worth taking again later)."""
        return self._tls.session

    # -- inside ----------------------------------------------------------------------------

    def _handshake(self) -> None:
        try:
            self._tls.do_handshake()
        except ssl.SSLWantReadError:
            return
        except ssl.SSLCertVerificationError as exc:
            code = exc.verify_code
            self._fail(TlsError(f"SSL certificate problem: {exc.verify_message}",
                                kind="certificate", fault=_VERIFY_FAULT.get(code, "authority"),
                                verify_code=code, verify_message=exc.verify_message,
                                hostname=self.server_hostname))
        except ssl.SSLError as exc:
            self._fail(self._error(exc))
        else:
            self._done = True

    def _read_into(self, plain: bytearray) -> None:
        while True:
            try:
                chunk = self._tls.read(65536)
            except ssl.SSLWantReadError:
                return
            except ssl.SSLZeroReturnError:
                self.closed_by_peer = True
                return
            except ssl.SSLError as exc:
                self._fail(self._error(exc))
            if not chunk:
                return
            plain += chunk

    def _error(self, exc: ssl.SSLError) -> TlsError:
        alert = _alert_text(exc)
        if alert is not None:
            return TlsError(f"TLS alert from the peer: {alert}", kind="alert", alert=alert)
        reason = (exc.reason or str(exc)).lower().replace("_", " ")
        return TlsError(f"TLS handshake failed: {reason}", kind="protocol")

    def _fail(self, error: TlsError) -> None:
        self.error = error
        raise error
