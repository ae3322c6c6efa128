"""The scenario PKI: the same certificates every run, names in subjectAltName, each fault
refused by OpenSSL as the real stack refuses it, validity agreeing with both clocks."""

import datetime
import ssl

import pytest
from cryptography import x509

from netsim.proto.tls.certs import FAULTS, Pki, VALID_FROM, VALID_UNTIL
from netsim.proto.wallclock import EPOCH


def _handshake(pki: Pki, label: str, hostname: str) -> str | None:
    """One handshake over memory BIOs; the client's verify error, or None."""
    import os
    import tempfile
    cred = pki.credential(label)
    with tempfile.TemporaryDirectory() as d:
        cert, key = os.path.join(d, "c.pem"), os.path.join(d, "k.pem")
        open(cert, "wb").write(cred.chain_pem)
        open(key, "wb").write(cred.key_pem)
        server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        server_ctx.load_cert_chain(cert, key)
    client_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    client_ctx.load_verify_locations(cadata=pki.ca_pem.decode())
    bios = [ssl.MemoryBIO() for _ in range(4)]
    client = client_ctx.wrap_bio(bios[0], bios[1], server_hostname=hostname)
    server = server_ctx.wrap_bio(bios[2], bios[3], server_side=True)
    for _ in range(4):
        for side in (client, server):
            try:
                side.do_handshake()
            except ssl.SSLWantReadError:
                pass
            except ssl.SSLCertVerificationError as exc:
                return exc.verify_message
            except ssl.SSLError:
                pass
        bios[2].write(bios[1].read())
        bios[0].write(bios[3].read())
    return None


def test_the_same_seed_makes_the_same_bytes_and_another_seed_others():
    a = Pki.build(7, {"web": ["www.example.com"]})
    b = Pki.build(7, {"web": ["www.example.com"]})
    c = Pki.build(8, {"web": ["www.example.com"]})
    assert a.files() == b.files()
    assert a.ca_pem != c.ca_pem and a.credential("web").key_pem != c.credential("web").key_pem


def test_names_and_addresses_are_in_subject_alt_name():
    pki = Pki.build(1, {"web": ["www.example.com", "example.com", "10.0.0.2"]})
    leaf = x509.load_pem_x509_certificates(pki.credential("web").chain_pem)[0]
    san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["www.example.com", "example.com"]
    assert [str(a) for a in san.get_values_for_type(x509.IPAddress)] == ["10.0.0.2"]


def test_a_good_certificate_verifies_by_name_and_by_address():
    pki = Pki.build(1, {"web": ["www.example.com", "10.0.0.2"]})
    assert _handshake(pki, "web", "www.example.com") is None
    assert _handshake(pki, "web", "10.0.0.2") is None


@pytest.mark.parametrize("fault, message", [
    ("unknown-ca", "unable to get local issuer certificate"),
    ("self-signed", "self-signed certificate"),
    ("wrong-name", "Hostname mismatch, certificate is not valid for 'www.example.com'."),
    ("expired", "certificate has expired"),
    ("not-yet-valid", "certificate is not yet valid"),
])
def test_each_fault_is_refused_by_openssl_as_it_says(fault, message):
    assert fault in FAULTS
    pki = Pki.build(1, {"web": ["www.example.com"]}, {"web": fault})
    assert _handshake(pki, "web", "www.example.com") == message


def test_validity_holds_on_the_simulated_and_the_machine_clock():
    start = datetime.datetime.fromtimestamp(EPOCH, datetime.timezone.utc)
    now = datetime.datetime.now(datetime.timezone.utc)
    for moment in (start, now):
        assert VALID_FROM < moment < VALID_UNTIL


def test_an_unknown_fault_is_refused():
    with pytest.raises(ValueError, match="unknown certificate fault"):
        Pki.build(1, {"web": ["w"]}, {"web": "bogus"})
