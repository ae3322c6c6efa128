"""A fake wire with real TLS for the standard library's mail clients: smtplib, imaplib
and poplib speak to netsim's server engines through it, cleartext, STARTTLS or implicit
TLS, with Python's ``ssl`` (OpenSSL) on the client's side over memory BIOs and
netsim's own TLS layer on the server's.

:class:`ServerEnd` is the runtime driver in small (the layer slot, StartTls, tls_ready,
the engine's outputs); :class:`FakeSocket` is what a client library holds as its
socket; :class:`MemoryContext` is an ``ssl.SSLContext`` whose ``wrap_socket`` wraps a
fake socket in :class:`MemoryTlsSocket`, so a library's own ``starttls()`` or
``*_SSL`` class runs its real code and the real handshake."""

from __future__ import annotations

import imaplib
import io
import poplib
import smtplib
import ssl

from netsim.errors import PeerError
from netsim.proto.stream import Close, Passthrough, Send, StartTls
from netsim.proto.tls.certs import Pki
from netsim.proto.tls.context import TlsSettings, server_context
from netsim.proto.tls.layer import TlsLayer

HOST = "mail.163.com"
_PKI: dict = {}


def pki(seed: int = 7) -> Pki:
    """The test run's CA, and a credential per fault (one build per session: cheap)."""
    if seed not in _PKI:
        _PKI[seed] = Pki.build(seed)
    return _PKI[seed]


def server_layers(fault: str | None = None, version: str | None = None):
    """A factory of netsim server TLS layers for ``mail.163.com``."""
    credential = pki().issue(f"mail-{fault or 'good'}", [HOST], fault)
    context = server_context(TlsSettings(version=version), credential, None)
    return lambda: TlsLayer.server(context)


class ServerEnd:
    """One server engine behind a layer slot, as the runtime drives it: socket bytes in
    (:meth:`deliver`), socket bytes out (:meth:`take`)."""

    def __init__(self, engine, *, layer=None, starttls=None) -> None:
        self.engine = engine
        self.layer = layer() if layer is not None else Passthrough()
        self.starttls = starttls
        self.to_client = bytearray()
        self.started = self.upgrading = self.closed = False
        self.failure: PeerError | None = None
        self.events: list = []              # the engine's other outputs
        self.wire = bytearray()             # every byte the client put on the wire
        self.to_client += self.layer.start(0.0)
        if self.layer.ready():
            self._start()

    def _start(self) -> None:
        self.started = True
        self.engine.start(0.0)
        self._drain()

    def deliver(self, data: bytes) -> None:
        self.wire += data
        if self.closed or self.failure is not None:
            return
        try:
            plain, back = self.layer.receive(data, 0.0)
        except PeerError as exc:            # the TLS layer refused: the driver's _layer_failed
            self.failure = exc
            return
        self.to_client += back
        if not self.started and self.layer.ready():
            self._start()
        elif self.upgrading and self.layer.ready():
            self.upgrading = False
            self.engine.tls_ready(0.0, self.layer.info())
        if plain:
            self.engine.receive(plain, 0.0)
        self._drain()

    def _drain(self) -> None:
        for out in self.engine.outputs():
            if isinstance(out, Send):
                self.to_client += self.layer.send(out.data)
            elif isinstance(out, StartTls):
                self.layer = self.starttls()
                self.upgrading = True
                self.to_client += self.layer.start(0.0)
            elif isinstance(out, Close):
                self.closed = True
            else:
                self.events.append(out)

    def take(self, size: int) -> bytes:
        data = bytes(self.to_client[:size])
        del self.to_client[:size]
        return data


class _Raw(io.RawIOBase):
    def __init__(self, sock) -> None:
        self._sock = sock

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self._sock.recv(len(buffer))
        buffer[:len(data)] = data
        return len(data)


class FakeSocket:
    """What a client library holds as its socket: writes reach the server at once, a
    read takes what the server has said (nothing more to read is the end of stream)."""

    def __init__(self, server: ServerEnd) -> None:
        self.server = server
        self.sent: list[bytes] = []

    def sendall(self, data: bytes) -> None:
        self.sent.append(bytes(data))
        self.server.deliver(bytes(data))

    def send(self, data: bytes) -> int:
        self.sendall(data)
        return len(data)

    def recv(self, size: int) -> bytes:
        return self.server.take(size)

    def makefile(self, mode: str = "rb", *args, **kwargs):
        return io.BufferedReader(_Raw(self))

    def settimeout(self, timeout) -> None:
        pass

    def shutdown(self, how) -> None:
        pass

    def close(self) -> None:
        pass


class MemoryTlsSocket(FakeSocket):
    """A fake socket inside TLS: the client library's own context over memory BIOs."""

    def __init__(self, raw: FakeSocket, context: ssl.SSLContext, server_hostname) -> None:
        self.raw = raw
        self.server = raw.server
        self._in, self._out = ssl.MemoryBIO(), ssl.MemoryBIO()
        self._tls = context.wrap_bio(self._in, self._out, server_side=False,
                                     server_hostname=server_hostname)
        self._handshake()

    def _flush(self) -> None:
        data = self._out.read()
        if data:
            self.raw.sendall(data)

    def _pull(self) -> bool:
        data = self.raw.recv(1 << 20)
        if data:
            self._in.write(data)
        return bool(data)

    def _handshake(self) -> None:
        while True:
            try:
                self._tls.do_handshake()
            except ssl.SSLWantReadError:
                self._flush()
                if not self._pull():
                    raise ssl.SSLEOFError("EOF occurred in violation of protocol") from None
            except ssl.SSLError:
                self._flush()                 # the alert goes to the server, as OpenSSL's
                raise
            else:
                self._flush()
                return

    def version(self) -> str | None:
        return self._tls.version()

    def sendall(self, data: bytes) -> None:
        self._tls.write(bytes(data))
        self._flush()

    def recv(self, size: int) -> bytes:
        while True:
            try:
                return self._tls.read(size)
            except ssl.SSLWantReadError:
                if not self._pull():
                    return b""
            except ssl.SSLZeroReturnError:
                return b""


    def read_all(self) -> bytes:
        """Everything the server has said inside TLS so far (several records)."""
        out = bytearray()
        while True:
            data = self.recv(1 << 20)
            if not data:
                return bytes(out)
            out += data


class MemoryContext(ssl.SSLContext):
    """An ``ssl.SSLContext`` whose ``wrap_socket`` takes a :class:`FakeSocket`."""

    def wrap_socket(self, sock, server_side=False, do_handshake_on_connect=True,
                    suppress_ragged_eofs=True, server_hostname=None, session=None):
        return MemoryTlsSocket(sock, self, server_hostname)


def client_context(trust: bool = True) -> MemoryContext:
    """A client's context, as ``ssl.create_default_context()`` makes one, trusting the
    test CA (or, ``trust=False``, nothing but the system's: our CA is unknown to it)."""
    context = MemoryContext(ssl.PROTOCOL_TLS_CLIENT)
    if trust:
        context.load_verify_locations(cadata=pki().ca_pem.decode("ascii"))
    return context


# -- the libraries, connected to a ServerEnd --------------------------------------------------

def smtp(server: ServerEnd) -> smtplib.SMTP:
    class SMTP(smtplib.SMTP):
        def _get_socket(self, host, port, timeout):
            return FakeSocket(server)
    return SMTP(HOST, 25)


def smtp_ssl(server: ServerEnd, context: ssl.SSLContext) -> smtplib.SMTP_SSL:
    class SMTP_SSL(smtplib.SMTP_SSL):                  # noqa: N801 — smtplib's name
        def _get_socket(self, host, port, timeout):
            return self.context.wrap_socket(FakeSocket(server), server_hostname=host)
    return SMTP_SSL(HOST, 465, context=context)


def imap(server: ServerEnd) -> imaplib.IMAP4:
    class IMAP4(imaplib.IMAP4):
        def _create_socket(self, timeout):
            return FakeSocket(server)
    return IMAP4(HOST, 143)


def imap_ssl(server: ServerEnd, context: ssl.SSLContext) -> imaplib.IMAP4_SSL:
    class IMAP4_SSL(imaplib.IMAP4_SSL):                # noqa: N801
        def _create_socket(self, timeout):
            return self.ssl_context.wrap_socket(FakeSocket(server), server_hostname=self.host)
    return IMAP4_SSL(HOST, 993, ssl_context=context)


def pop(server: ServerEnd) -> poplib.POP3:
    class POP3(poplib.POP3):
        def _create_socket(self, timeout):
            return FakeSocket(server)
    return POP3(HOST, 110)


def pop_ssl(server: ServerEnd, context: ssl.SSLContext) -> poplib.POP3_SSL:
    class POP3_SSL(poplib.POP3_SSL):                   # noqa: N801
        def _create_socket(self, timeout):
            return self.context.wrap_socket(FakeSocket(server), server_hostname=self.host)
    return POP3_SSL(HOST, 995, context=context)
