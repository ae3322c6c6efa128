"""TLS records labelled as a textbook draws the handshake (netsim.proto.tls_descriptor),
checked on the records of real handshakes: OpenSSL's, through netsim's TLS layers."""

import pytest

from netsim.proto.tls.context import TlsSettings, client_context, server_context
from netsim.proto.tls.layer import TlsLayer
from netsim.proto.tls_descriptor import tls_label
from tests.proto.mail_wire import pki

HOST = "www.example.com"


def flights(version):
    """The byte flights of one handshake: client, server, client (what each side sent
    before it waited for the other)."""
    credential = pki().issue("labels", [HOST], None)
    client = TlsLayer.client(client_context(TlsSettings(version=version, alpn=("http/1.1",)),
                                            pki().ca_pem, None), HOST)
    server = TlsLayer.server(server_context(TlsSettings(alpn=("http/1.1",)), credential, None))
    hello = client.start(0.0)
    _plain, answer = server.receive(hello, 0.0)
    _plain, finish = client.receive(answer, 0.0)
    return hello, answer, finish


def test_a_tls_1_3_handshake_names_the_encrypted_messages_in_braces():
    hello, answer, finish = flights("1.3")
    assert tls_label(hello) == "TLS ClientHello (SNI www.example.com, ALPN http/1.1)"
    assert tls_label(answer) == ("TLS ServerHello, ChangeCipherSpec, {EncryptedExtensions, "
                                 "Certificate, CertificateVerify, Finished}")
    assert tls_label(finish) == "TLS ChangeCipherSpec, {Finished}"


def test_a_tls_1_2_handshake_keeps_its_cleartext_names():
    _hello, answer, finish = flights("1.2")
    assert tls_label(answer) == "TLS ServerHello, Certificate, ServerKeyExchange, ServerHelloDone"
    assert tls_label(finish) == "TLS ClientKeyExchange, ChangeCipherSpec, Encrypted Handshake Message"


def test_application_data_is_still_application_data():
    record = b"\x17\x03\x03\x00\x05" + b"\x00" * 5
    assert tls_label(record * 3) == "TLS Application Data (5 B) ×3"
    # After a ChangeCipherSpec, the first record is TLS 1.3's Finished; the next is data.
    ccs = b"\x14\x03\x03\x00\x01\x01"
    assert tls_label(ccs + record + record) == "TLS ChangeCipherSpec, {Finished}, Application Data (5 B)"


@pytest.mark.parametrize("count, names", [(4, "EncryptedExtensions, Certificate, CertificateVerify, Finished"),
                                          (2, "EncryptedExtensions, Finished"),
                                          (3, "encrypted handshake ×3")])
def test_a_server_flight_is_named_by_its_records(count, names):
    _hello, answer, _finish = flights("1.3")
    # The ServerHello and ChangeCipherSpec, then ``count`` encrypted records.
    head, at = b"", 0
    for _ in range(2):
        size = int.from_bytes(answer[at + 3:at + 5], "big")
        head += answer[at:at + 5 + size]
        at += 5 + size
    record = b"\x17\x03\x03\x00\x05" + b"\x00" * 5
    assert tls_label(head + record * count) == f"TLS ServerHello, ChangeCipherSpec, {{{names}}}"
