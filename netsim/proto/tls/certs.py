"""A scenario's public-key infrastructure: one certificate authority and one certificate
per TLS server, the same bytes every run of the same scenario and seed.

RFC 5280 profiles the certificates; RFC 8410 the Ed25519 keys. Ed25519 is chosen because
both its keys and its signatures are deterministic (a key is any 32 bytes, RFC 8032
§5.1.6 signs without a random nonce), so a certificate — and every handshake message
that carries it or a signature — has the same bytes and size every run; ECDSA's
signatures change length between runs and RSA keys cannot be drawn from a seed.
OpenSSL accepts Ed25519 in TLS 1.3 (RFC 8446 §4.2.3) and 1.2 (RFC 8422 §5.1.3).

OpenSSL checks validity against the machine's clock, not the simulated one (a run starts
on 2024-01-01, :mod:`netsim.proto.wallclock`), so a good certificate is valid across both
— from 2023 to 2049 — and the faults are wrong in both: ``expired`` ended in 2001,
``not-yet-valid`` begins in 2090.

Faults a scenario can ask for, per server: ``unknown-ca`` (signed by a CA the clients do
not trust), ``self-signed``, ``wrong-name`` (issued for another name), ``expired``,
``not-yet-valid``.
"""

from __future__ import annotations

import datetime
import hashlib
import ipaddress
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

FAULTS = ("unknown-ca", "self-signed", "wrong-name", "expired", "not-yet-valid")

_UTC = datetime.timezone.utc
VALID_FROM = datetime.datetime(2023, 1, 1, tzinfo=_UTC)
VALID_UNTIL = datetime.datetime(2049, 12, 31, 23, 59, 59, tzinfo=_UTC)
_EXPIRED = (datetime.datetime(1999, 1, 1, tzinfo=_UTC),
            datetime.datetime(2001, 1, 1, tzinfo=_UTC))
_NOT_YET = (datetime.datetime(2090, 1, 1, tzinfo=_UTC),
            datetime.datetime(2099, 1, 1, tzinfo=_UTC))


def _key(seed: int, label: str) -> Ed25519PrivateKey:
    """An Ed25519 key drawn from the scenario's seed and a label (RFC 8032 §5.1.5:
    any 32 bytes are a private key)."""
    digest = hashlib.sha256(f"netsim tls key {seed} {label}".encode()).digest()
    return Ed25519PrivateKey.from_private_bytes(digest)


def _serial(seed: int, label: str) -> int:
    digest = hashlib.sha256(f"netsim tls serial {seed} {label}".encode()).digest()
    return int.from_bytes(digest[:16], "big") >> 1     # positive, ≤ 20 octets (RFC 5280 §4.1.2.2)


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _key_pem(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _subject_alt_names(names: list[str]) -> list[x509.GeneralName]:
    out: list[x509.GeneralName] = []
    for name in names:
        try:
            out.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            out.append(x509.DNSName(name.rstrip(".")))
    return out


@dataclass(frozen=True)
class Credential:
    """What a TLS server is configured with: its certificate chain (leaf first, then the
    CA that issued it, as nginx's ``ssl_certificate`` file holds it) and private key."""
    name: str
    names: tuple[str, ...]
    chain_pem: bytes
    key_pem: bytes
    fault: str | None = None


@dataclass
class Pki:
    """The scenario's CA and its servers' credentials. Build with :meth:`build`."""
    seed: int
    ca_pem: bytes
    ca_name: str
    credentials: dict[str, Credential] = field(default_factory=dict)
    _ca: tuple = field(default=(), repr=False)

    @classmethod
    def build(cls, seed: int, servers: dict[str, list[str]] | None = None,
              faults: dict[str, str] | None = None,
              ca_name: str = "netsim Scenario CA") -> "Pki":
        """The CA, and a credential per entry of ``servers``: server label (a node name)
        → the names its certificate is for (DNS names and addresses, the first one its
        subject CN); ``faults``: label → one of :data:`FAULTS`."""
        ca_key = _key(seed, "ca")
        ca_subject = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "netsim"),
                                x509.NameAttribute(NameOID.COMMON_NAME, ca_name)])
        ca_cert = _ca_certificate(seed, "ca", ca_key, ca_subject)
        pki = cls(seed=seed, ca_pem=_pem(ca_cert), ca_name=ca_name)
        pki._ca = (ca_key, ca_cert)
        for label in sorted(servers or {}):
            pki.issue(label, servers[label], (faults or {}).get(label))
        return pki

    def issue(self, label: str, names: list[str], fault: str | None = None) -> Credential:
        """A credential for the server ``label`` (its key drawn from the seed and the
        label, so the order servers are issued in changes nothing)."""
        if fault is not None and fault not in FAULTS:
            raise ValueError(f"unknown certificate fault {fault!r} (one of {', '.join(FAULTS)})")
        names = [str(n) for n in names] or [label]
        ca_key, ca_cert = self._ca
        credential = _server_credential(self.seed, label, names, fault, ca_key, ca_cert)
        self.credentials[label] = credential
        return credential

    def credential(self, label: str) -> Credential:
        return self.credentials[label]

    def files(self) -> dict[str, bytes]:
        """The files written with the outputs under ``certs/``: the CA certificate, and per
        server its chain and key (a scenario's keys are no secret: they are for reading
        the captures)."""
        out = {"ca.pem": self.ca_pem}
        for label, cred in self.credentials.items():
            out[f"{label}.pem"] = cred.chain_pem
            out[f"{label}.key"] = cred.key_pem
        return out


def _ca_certificate(seed: int, label: str, key: Ed25519PrivateKey,
                    subject: x509.Name) -> x509.Certificate:
    public = key.public_key()
    return (x509.CertificateBuilder()
            .subject_name(subject).issuer_name(subject)
            .public_key(public)
            .serial_number(_serial(seed, label))
            .not_valid_before(VALID_FROM).not_valid_after(VALID_UNTIL)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True,
                                         crl_sign=True, content_commitment=False,
                                         key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, encipher_only=False,
                                         decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
            .sign(key, None))


def _server_credential(seed: int, label: str, names: list[str], fault: str | None,
                       ca_key: Ed25519PrivateKey, ca_cert: x509.Certificate) -> Credential:
    key = _key(seed, f"server {label}")
    certified = [f"wrong.{names[0].rstrip('.')}" if _is_dns(names[0]) else "wrong.invalid"] \
        if fault == "wrong-name" else names
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, certified[0].rstrip("."))])
    issuer_key, issuer_cert = ca_key, ca_cert
    chain_extra = [ca_cert]
    if fault == "unknown-ca":
        issuer_key = _key(seed, "stranger ca")
        stranger = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Nobody You Know"),
                              x509.NameAttribute(NameOID.COMMON_NAME, "Unknown Issuing CA")])
        issuer_cert = _ca_certificate(seed, "stranger ca", issuer_key, stranger)
        chain_extra = []                  # the client has never seen its CA
    begin, end = VALID_FROM, VALID_UNTIL
    if fault == "expired":
        begin, end = _EXPIRED
    elif fault == "not-yet-valid":
        begin, end = _NOT_YET
    builder = (x509.CertificateBuilder()
               .subject_name(subject)
               .public_key(key.public_key())
               .serial_number(_serial(seed, f"server {label}"))
               .not_valid_before(begin).not_valid_after(end)
               .add_extension(x509.SubjectAlternativeName(_subject_alt_names(certified)),
                              critical=False)
               .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                              critical=False))
    if fault == "self-signed":
        cert = builder.issuer_name(subject).sign(key, None)
        chain_extra = []
    else:
        cert = (builder.issuer_name(issuer_cert.subject)
                .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                    issuer_key.public_key()), critical=False)
                .sign(issuer_key, None))
    chain = _pem(cert) + b"".join(_pem(c) for c in chain_extra)
    return Credential(name=label, names=tuple(names), chain_pem=chain,
                      key_pem=_key_pem(key), fault=fault)


def _is_dns(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return True
    return False
