"""The OpenSSL contexts a scenario's TLS clients and servers are configured with: the
protocol version (1.3, 1.2, or both as a real stack offers them), ALPN (RFC 7301), the
trust anchors, the server's credential, and the key log.

The key log is OpenSSL's SSLKEYLOGFILE format (NSS's, which Wireshark reads): every
context of a run writes to the one file, so one ``tls.keylog_file`` setting decrypts
every connection of the capture.
"""

from __future__ import annotations

import os
import ssl
import tempfile
from dataclasses import dataclass

from netsim.proto.tls.certs import Credential

VERSIONS = {"1.2": ssl.TLSVersion.TLSv1_2, "1.3": ssl.TLSVersion.TLSv1_3}


@dataclass(frozen=True)
class TlsSettings:
    """One side's choices: ``version`` None offers 1.2 and 1.3 (a client) or accepts
    both (a server); ``"1.2"`` or ``"1.3"`` pins it."""
    version: str | None = None
    alpn: tuple[str, ...] = ()
    verify: bool = True


def _versions(context: ssl.SSLContext, version: str | None) -> None:
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if version is not None:
        context.minimum_version = context.maximum_version = VERSIONS[version]


def client_context(settings: TlsSettings, ca_pem: bytes, keylog: str | None) -> ssl.SSLContext:
    """A client's: the scenario CA as its only trust anchor, host names checked."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    _versions(context, settings.version)
    context.load_verify_locations(cadata=ca_pem.decode("ascii"))
    if not settings.verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if settings.alpn:
        context.set_alpn_protocols(list(settings.alpn))
    if keylog is not None:
        context.keylog_filename = keylog
    return context


def server_context(settings: TlsSettings, credential: Credential,
                   keylog: str | None) -> ssl.SSLContext:
    """A server's: its chain and key, ALPN it agrees to, session tickets on (two per
    TLS 1.3 handshake, as OpenSSL and nginx send)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    _versions(context, settings.version)
    # OpenSSL loads a chain only from a file: a private temporary one, gone at once.
    with tempfile.TemporaryDirectory(prefix="netsim-tls-") as folder:
        chain, key = os.path.join(folder, "chain.pem"), os.path.join(folder, "key.pem")
        with open(chain, "wb") as out:
            out.write(credential.chain_pem)
        with open(key, "wb") as out:
            out.write(credential.key_pem)
        context.load_cert_chain(chain, key)
    if settings.alpn:
        context.set_alpn_protocols(list(settings.alpn))
    if keylog is not None:
        context.keylog_filename = keylog
    return context
