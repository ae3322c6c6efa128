"""TLS for a run's applications: the one PKI and key log a network's TLS servers and
clients share, and the layers the runtime puts in a connection's slot.

A scenario asks for TLS per app (``tls: true`` or ``tls: {version: "1.2", ...}``, an
``https://`` URL, a protocol's TLS port). Every server's certificate is issued by the
run's CA for the names it serves and its address; every client trusts that CA alone.
The key log is one file per run, written by OpenSSL as the handshakes happen (to a
private temporary file), and copied into the outputs as ``keys.log``.
"""

from __future__ import annotations

import os
import tempfile
import weakref

from netsim.proto.tls.certs import Pki
from netsim.proto.tls.context import TlsSettings, client_context, server_context
from netsim.proto.tls.layer import TlsLayer
from netsim.wire.addr import int_to_ip

#: The JSON Schema of an app's ``tls`` argument (a server's may also give ``fault``).
TLS_SCHEMA = {
    "anyOf": [
        {"type": "boolean"},
        {"type": "object", "additionalProperties": False, "properties": {
            "version": {"enum": ["1.2", "1.3"],
                        "description": "pin TLS 1.2 or 1.3 (default: both offered, 1.3 chosen)"},
            "alpn": {"type": "array", "items": {"type": "string"},
                     "description": "ALPN protocols offered or accepted, in order"},
            "verify": {"type": "boolean", "default": True,
                       "description": "a client checks the certificate (curl -k: false)"},
            "fault": {"enum": ["unknown-ca", "self-signed", "wrong-name", "expired",
                               "not-yet-valid"],
                      "description": "a server: present this bad certificate"},
        }},
    ],
    "description": "TLS under the protocol: true, or {version, alpn, verify, fault}",
}


def tls_options(value) -> dict | None:
    """An app's ``tls`` argument → None (no TLS) or its settings as a dict."""
    if value is None or value is False:
        return None
    if value is True:
        return {}
    return dict(value)


def settings_of(options: dict, alpn: tuple[str, ...] = ()) -> TlsSettings:
    return TlsSettings(version=options.get("version"),
                       alpn=tuple(options.get("alpn", alpn)),
                       verify=options.get("verify", True))


class TlsWorld:
    """A network's TLS: the PKI, the key log, and clients' sessions for resumption."""

    def __init__(self, network) -> None:
        self.network = network
        self.pki = Pki.build(network.seed)
        handle, self.keylog = tempfile.mkstemp(prefix="netsim-keys-", suffix=".log")
        os.close(handle)
        weakref.finalize(self, _remove, self.keylog)
        self.sessions: dict = {}            # (client node, host, port) → ssl.SSLSession
        self.servers: dict[str, list[str]] = {}
        self.quic_tickets: dict = {}        # (client node, host, port) → aioquic SessionTicket
        self._quic_log = None
        #: qlog traces of the run's QUIC connections: a file name → aioquic's logger.
        self.qlogs: dict = {}

    # -- servers -----------------------------------------------------------------------

    def server_context(self, app, names: list[str], options: dict,
                       alpn: tuple[str, ...] = ()):
        """The OpenSSL context of a TLS server on ``app``'s node: a certificate for
        ``names``, the node's name and its addresses."""
        node = app.node
        label = f"{node.name}-{app.port}" if node.name in self.servers else node.name
        certified = list(dict.fromkeys([*names, node.name, *_addresses(node)]))
        self.servers[label] = certified
        credential = self.pki.issue(label, certified, options.get("fault"))
        return server_context(settings_of(options, alpn), credential, self.keylog)

    def quic_server(self, app, names: list[str], options: dict, *, qlog=None):
        """A QUIC server's configuration on ``app``'s node (HTTP/3: TLS 1.3 inside QUIC,
        RFC 9001): the same certificate its TCP server has (issued once), secrets
        appended to the run's key log."""
        from netsim.proto.http.h3 import server_configuration
        node = app.node
        label = next((l for l, certified in self.servers.items()
                      if l.split("-")[0] == node.name and set(names) <= set(certified)), None)
        if label is None:
            label = f"{node.name}-quic" if node.name in self.servers else node.name
            certified = list(dict.fromkeys([*names, node.name, *_addresses(node)]))
            self.servers[label] = certified
            self.pki.issue(label, certified, options.get("fault"))
        credential = self.pki.credential(label)
        return server_configuration(credential.chain_pem, credential.key_pem,
                                    secrets_log_file=self._quic_secrets(), quic_logger=qlog)

    def quic_client(self, options: dict, host: str, app, port: int, *, qlog=None):
        """A QUIC client's configuration to ``host``: the run's CA, SNI ``host``, and the
        session ticket this client kept from its last connection there (0-RTT)."""
        from netsim.proto.http.h3 import client_configuration
        configuration = client_configuration(self.pki.ca_pem, _sni(host),
                                             verify=options.get("verify", True),
                                             secrets_log_file=self._quic_secrets(),
                                             quic_logger=qlog)
        configuration.session_ticket = self.quic_tickets.get((app.node.name, host, port))
        return configuration

    def keep_quic_ticket(self, app, host: str, port: int, ticket) -> None:
        self.quic_tickets[(app.node.name, host, port)] = ticket

    def _quic_secrets(self):
        # aioquic writes SSLKEYLOGFILE lines (QUIC's traffic secrets) and flushes them;
        # one handle, appending to the file OpenSSL writes the TCP handshakes' to.
        if self._quic_log is None:
            self._quic_log = open(self.keylog, "a", encoding="ascii")
            weakref.finalize(self, self._quic_log.close)
        return self._quic_log

    def server_layer(self, context):
        """A zero-argument factory of server layers, one per connection (``serve``'s)."""
        return lambda: TlsLayer.server(context)

    # -- clients -----------------------------------------------------------------------

    def client_context(self, options: dict, alpn: tuple[str, ...] = ()):
        return client_context(settings_of(options, alpn), self.pki.ca_pem, self.keylog)

    def client_layer(self, context, app, host: str, port: int) -> TlsLayer:
        """A client's layer to ``host``: SNI and the name checked are ``host``; a session
        this client kept from an earlier connection to it is offered (resumption)."""
        key = (app.node.name, host, port)
        layer = TlsLayer.client(context, _sni(host), session=self.sessions.get(key))
        return _Remembering(layer, self.sessions, key)

    # -- outputs -----------------------------------------------------------------------

    def keylog_text(self) -> str:
        if self._quic_log is not None:
            self._quic_log.flush()
        with open(self.keylog, encoding="ascii", errors="replace") as log:
            return log.read()

    def files(self) -> dict[str, bytes]:
        """``certs/`` of the outputs: the CA, each server's chain and key."""
        return self.pki.files()


def tls_world(network) -> TlsWorld:
    """The network's TLS, made when its first TLS app asks."""
    world = getattr(network, "tls", None)
    if world is None:
        world = network.tls = TlsWorld(network)
    return world


class _Remembering:
    """A client layer that keeps the session for the next connection to the same server
    once the handshake (and, in TLS 1.3, the tickets after it) came."""

    def __init__(self, layer: TlsLayer, sessions: dict, key) -> None:
        self._layer, self._sessions, self._key = layer, sessions, key

    def __getattr__(self, name):
        return getattr(self._layer, name)

    def receive(self, data: bytes, now: float):
        result = self._layer.receive(data, now)
        if self._layer.ready():
            session = self._layer.session
            if session is not None and (session.has_ticket or self._layer.info().version
                                        != "TLSv1.3"):
                self._sessions[self._key] = session
        return result


def handshake_timing(driver) -> dict:
    """How long a client's TLS handshake took after TCP's, in ms and in round trips of
    the path (the least RTT TCP measured by then: SYN → SYN-ACK, the handshake's own)."""
    tls = driver.ready_at - driver.connected_at
    rtt = getattr(getattr(driver.sock._endpoint.conn, "rtt", None), "min_rtt", None)
    return {"handshake_ms": round(tls * 1000, 3),
            "handshake_rtts": round(tls / rtt, 1) if rtt else None}


def _addresses(node) -> list[str]:
    return [int_to_ip(iface.ip) for iface in node.interfaces.values() if iface.ip is not None]


def _sni(host: str) -> str:
    # RFC 6066 §3: no trailing dot in server_name; OpenSSL also checks an address as one.
    return host.rstrip(".")


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
