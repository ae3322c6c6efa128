"""netsim's TLS server layer (OpenSSL, through ``ssl``'s memory BIOs, with the run's
certificates) held against a second, independent TLS implementation: tlslite-ng, pure
Python, as the client — TLS 1.3 and 1.2, SNI, ALPN, the chain it is sent, a session
resumed, and an HTTP request inside answered by the HTTP server engine."""

import pytest

tlslite = pytest.importorskip("tlslite.api", reason="tlslite-ng is in the dev extra")

from cryptography import x509                                           # noqa: E402

from netsim.proto.http import HttpServerConnection, Site, resource_from_spec   # noqa: E402
from netsim.proto.tls.context import TlsSettings, server_context       # noqa: E402
from netsim.proto.tls.layer import TlsLayer                            # noqa: E402
from netsim.units import parse_size, parse_time                        # noqa: E402
from tests.proto.mail_wire import FakeSocket, ServerEnd, pki           # noqa: E402

HOST = "www.example.com"


def server_layers():
    """A factory of server layers as an https http-server makes them: the run's
    certificate for the name, ALPN h2 and http/1.1."""
    credential = pki().issue("www", [HOST], None)
    context = server_context(TlsSettings(alpn=("h2", "http/1.1")), credential, None)
    return lambda: TlsLayer.server(context)


def http_engine():
    site = Site(HOST, {"/": resource_from_spec("/", {"body": "inside TLS"}, parse_time, parse_size)})
    return HttpServerConnection({HOST: site})


def connect(version, *, session=None, layers=None):
    server = ServerEnd(http_engine(), layer=layers or server_layers())
    server.said = bytearray()                 # every byte the server sent, for counting
    take = server.take
    server.take = lambda size: server.said.extend(data := take(size)) or data
    settings = tlslite.HandshakeSettings()
    settings.minVersion = settings.maxVersion = version
    conn = tlslite.TLSConnection(FakeSocket(server))
    conn.handshakeClientCert(settings=settings, serverName=HOST, alpn=[bytearray(b"http/1.1")],
                             session=session)
    return conn, server


@pytest.mark.parametrize("version, name", [((3, 4), "TLS 1.3"), ((3, 3), "TLS 1.2")])
def test_tlslite_completes_the_handshake_and_reads_the_page_inside(version, name):
    conn, server = connect(version)
    assert conn.version == version and conn.session.serverName == HOST
    assert bytes(conn.session.appProto) == b"http/1.1"
    # The chain it was sent: our server certificate for the name, signed by the run's CA.
    leaf = x509.load_der_x509_certificate(bytes(conn.session.serverCertChain.x509List[0].bytes))
    assert HOST in leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value \
        .get_values_for_type(x509.DNSName)
    ca = x509.load_pem_x509_certificate(pki().ca_pem)
    assert leaf.issuer == ca.subject
    leaf.verify_directly_issued_by(ca)
    assert get(conn).startswith(b"HTTP/1.1 200 OK\r\n")
    assert server.failure is None


def get(conn) -> bytes:
    conn.write(f"GET / HTTP/1.1\r\nHost: {HOST}\r\n\r\n".encode())
    answer = b""
    while b"inside TLS" not in answer:
        answer += bytes(conn.read())
    return answer


@pytest.mark.parametrize("version", [(3, 4), (3, 3)])
def test_a_session_is_resumed_on_a_second_connection(version):
    """TLS 1.3 by one of the two tickets OpenSSL sends after the handshake (read with the
    first answer), TLS 1.2 by its session ticket: no certificate the second time."""
    layers = server_layers()
    first, full = connect(version, layers=layers)
    certificate = bytes(first.session.serverCertChain.x509List[0].bytes)
    get(first)
    again, server = connect(version, session=first.session, layers=layers)
    assert again.resumed and get(again).startswith(b"HTTP/1.1 200 OK") and server.failure is None
    # The handshake came without the certificate: the server said less by more than it.
    assert len(server.said) < len(full.said) - len(certificate)
