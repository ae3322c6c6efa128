"""Mail over TLS (issue 21) against the standard library's own clients: smtplib's
``starttls()`` and ``SMTP_SSL``, imaplib's ``starttls()`` and ``IMAP4_SSL``, poplib's
``stls()`` and ``POP3_SSL``, each with Python's ``ssl`` (OpenSSL) on its side and netsim's
TLS layer on the server's (tests/proto/mail_wire.py). Also: the STARTTLS command
injection (RFC 3207 §6, CVE-2011-0411) — cleartext after the command is never read —
and what a server forgets at STARTTLS (RFC 3207 §4.2)."""

import imaplib
import poplib
import smtplib
import ssl

import pytest

from netsim.proto.mail import ImapServerSession, Pop3ServerSession, SmtpServerSession
from netsim.proto.mail.tls_session import TlsStarted
from netsim.proto.tls.layer import TlsError
from tests.proto import mail_wire as wire
from tests.proto.test_mail import MESSAGE, policy, store_with_mail

TOKEN = b"AGJvYgBzZWNyZXQ="                 # AUTH PLAIN \0bob\0secret


def smtp_server(port=25, fault=None, version=None, **changes):
    """mail.163.com's SMTP session on ``port`` as the mail server configures it with TLS."""
    options = {25: dict(starttls=True, auth_needs_tls=True),
               587: dict(submission=True, starttls=True, auth_needs_tls=True,
                         tls_required=True),
               465: dict(submission=True, tls=True)}[port]
    session = SmtpServerSession(policy(**changes), "10.0.3.7", **options)
    layers = wire.server_layers(fault, version)
    return wire.ServerEnd(session, layer=layers if port == 465 else None, starttls=layers)


def cleartext(end) -> bytes:
    """Every byte the client put on the wire: what is not inside TLS shows."""
    return bytes(end.wire)


# -- SMTP: STARTTLS on 25 and 587, SMTPS on 465 ------------------------------------------------

def test_smtplib_starttls_on_25_hides_auth_and_the_message_and_the_server_forgets_ehlo():
    end = smtp_server(25)
    client = wire.smtp(end)
    client.ehlo("alice")
    assert client.has_extn("starttls") and not client.has_extn("auth")   # smtpd_tls_auth_only
    assert client.starttls(context=wire.client_context())[0] == 220
    assert client.sock.version() == "TLSv1.3"
    client.ehlo("alice")                                   # RFC 3207 §4.2: EHLO again
    assert client.has_extn("auth") and not client.has_extn("starttls")
    client.login("bob", "secret")
    assert client.sendmail("alice@qq.com", ["bob@163.com"], MESSAGE) == {}
    client.quit()
    (accepted,) = end.engine.accepted
    assert accepted.tls and accepted.authenticated == "bob" and accepted.data == MESSAGE
    wire_bytes = cleartext(end)
    assert b"STARTTLS" in wire_bytes
    for secret in (TOKEN, b"MAIL FROM", b"Hi Bob"):          # all of it inside TLS
        assert secret not in wire_bytes
    assert any(isinstance(e, TlsStarted) and e.info.version == "TLSv1.3" for e in end.events)


def test_submission_on_587_refuses_everything_but_starttls_in_the_clear():
    client = wire.smtp(smtp_server(587))
    client.ehlo("alice")
    with pytest.raises(smtplib.SMTPNotSupportedError):
        client.login("bob", "secret")                       # no AUTH offered before TLS
    assert client.mail("alice@qq.com") == (530, b"5.7.0 Must issue a STARTTLS command first")
    assert client.docmd("AUTH", "PLAIN " + TOKEN.decode())[0] == 530
    assert client.noop()[0] == 250
    client.starttls(context=wire.client_context())
    client.ehlo("alice")
    client.login("bob", "secret")
    assert client.sendmail("alice@qq.com", ["carol@gmail.com"], MESSAGE) == {}


def test_smtp_ssl_on_465_greets_inside_tls_and_takes_the_message():
    end = smtp_server(465, version="1.2")
    client = wire.smtp_ssl(end, wire.client_context())
    assert client.sock.version() == "TLSv1.2"
    client.ehlo("alice")
    assert client.has_extn("auth") and not client.has_extn("starttls")
    client.login("bob", "secret")
    assert client.sendmail("alice@qq.com", ["bob@163.com"], MESSAGE) == {}
    assert end.engine.accepted[0].tls
    assert b"220" not in cleartext(end)                 # even the greeting is inside


@pytest.mark.parametrize("fault, reason", [
    ("unknown-ca", "unable to get local issuer certificate"),
    ("self-signed", "self-signed certificate"),
    ("wrong-name", "Hostname mismatch, certificate is not valid for 'mail.163.com'."),
    ("expired", "certificate has expired"),
    ("not-yet-valid", "certificate is not yet valid"),
])
def test_smtplib_refuses_a_bad_certificate_and_sends_nothing_inside(fault, reason):
    end = smtp_server(25, fault=fault)
    client = wire.smtp(end)
    client.ehlo("alice")
    with pytest.raises(ssl.SSLCertVerificationError) as info:
        client.starttls(context=wire.client_context())
    assert info.value.verify_message == reason
    # The server heard OpenSSL's alert and its layer failed that connection.
    assert isinstance(end.failure, TlsError) and end.failure.kind == "alert"
    assert not end.engine.accepted


def test_starttls_errors_in_postfix_s_words():
    end = smtp_server(25)
    client = wire.smtp(end)
    client.ehlo("alice")
    assert client.docmd("STARTTLS", "now") == (501, b"5.5.4 Syntax: STARTTLS")
    client.starttls(context=wire.client_context())
    client.ehlo("alice")
    assert client.docmd("STARTTLS") == (554, b"5.5.1 Error: TLS already active")
    plain = wire.smtp(wire.ServerEnd(SmtpServerSession(policy(), "10.0.3.7")))
    plain.ehlo("alice")
    assert not plain.has_extn("starttls")
    assert plain.docmd("STARTTLS") == (502, b"5.5.1 Error: command not implemented")


def test_cleartext_after_starttls_is_dropped_unread_cve_2011_0411():
    """An attacker on the path appends commands to the client's STARTTLS line; a server
    that read them after the handshake would run them as if they came inside TLS."""
    end = smtp_server(25)
    sock = wire.FakeSocket(end)
    sock.recv(4096)                                         # the greeting
    sock.sendall(b"EHLO alice\r\nSTARTTLS\r\nMAIL FROM:<mallory@evil.test>\r\nRCPT TO:<bo")
    replies = sock.recv(4096)
    assert replies.endswith(b"220 2.0.0 Ready to start TLS\r\n")
    assert end.engine.dropped_after_starttls
    tls = wire.MemoryTlsSocket(sock, wire.client_context(), wire.HOST)
    tls.sendall(b"EHLO alice\r\nRCPT TO:<bob@163.com>\r\nMAIL FROM:<x@y>\r\n")
    after = tls.read_all().decode()
    # Nothing injected was taken: no sender (503 to RCPT), and MAIL is the first one.
    assert "503 5.5.1 Error: need MAIL command" in after and after.endswith("250 2.1.0 Ok\r\n")


def test_what_the_client_said_before_starttls_is_forgotten():
    session = SmtpServerSession(policy(), "10.0.3.7", starttls=True)
    session.start(0.0)
    session.receive(b"EHLO alice\r\nSTARTTLS\r\n", 0.0)
    session.outputs()
    session.tls_ready(0.0, None)
    session.receive(b"MAIL FROM:<alice@qq.com>\r\n", 0.0)
    assert session.outputs()[-1].data == b"503 5.5.1 Error: send HELO/EHLO first\r\n"


# -- IMAP: STARTTLS on 143, IMAPS on 993 -------------------------------------------------------

def imap_end(*, implicit=False, **options):
    session = ImapServerSession(store_with_mail(1), wire.HOST, tls=implicit,
                                starttls=not implicit, auth_needs_tls=True, **options)
    layers = wire.server_layers()
    return wire.ServerEnd(session, layer=layers if implicit else None, starttls=layers)


def test_imaplib_starttls_then_login_as_dovecot_with_disable_plaintext_auth():
    end = imap_end()
    client = wire.imap(end)
    assert "STARTTLS" in client.capabilities and "LOGINDISABLED" in client.capabilities
    assert "AUTH=PLAIN" not in client.capabilities
    with pytest.raises(imaplib.IMAP4.error, match="PRIVACYREQUIRED"):
        client.login("bob", "secret")
    assert client.starttls(ssl_context=wire.client_context())[0] == "OK"
    assert "AUTH=PLAIN" in client.capabilities and "STARTTLS" not in client.capabilities
    assert client.login("bob", "secret")[0] == "OK"
    assert client.select("INBOX") == ("OK", [b"1"])
    typ, data = client.fetch("1", "(BODY[])")
    assert typ == "OK" and data[0][1] == MESSAGE.replace(b"hello", b"hello 0")
    assert b"LOGIN" not in cleartext(end).split(b"STARTTLS", 1)[1]
    client.logout()


def test_imaplib_imap4_ssl_on_993():
    client = wire.imap_ssl(imap_end(implicit=True), wire.client_context())
    assert "STARTTLS" not in client.capabilities and "AUTH=PLAIN" in client.capabilities
    assert client.login("bob", "secret")[0] == "OK"
    assert client.select("INBOX") == ("OK", [b"1"])
    with pytest.raises(imaplib.IMAP4.error, match="TLS not supported by server"):
        client.starttls(ssl_context=wire.client_context())   # not advertised inside TLS


def test_imap_starttls_refusals_and_injection():
    end = imap_end()
    sock = wire.FakeSocket(end)
    sock.recv(4096)
    sock.sendall(b"a STARTTLS\r\nb LOGIN bob secret\r\n")
    assert sock.recv(4096) == b"a OK Begin TLS negotiation now.\r\n"
    tls = wire.MemoryTlsSocket(sock, wire.client_context(), wire.HOST)
    tls.sendall(b"c SELECT INBOX\r\nd STARTTLS\r\n")
    answer = tls.read_all()
    assert answer.startswith(b"c BAD")                     # not logged in: b was dropped
    assert b"d BAD TLS is already active.\r\n" in answer
    session = ImapServerSession(store_with_mail(1), wire.HOST)
    session.start(0.0)
    session.outputs()
    session.receive(b"a STARTTLS\r\n", 0.0)
    assert session.outputs()[-1].data == b"a BAD TLS support isn't enabled.\r\n"


# -- POP3: STLS on 110, POP3S on 995 ----------------------------------------------------------

def pop_end(*, implicit=False):
    session = Pop3ServerSession(store_with_mail(1), wire.HOST, tls=implicit,
                                starttls=not implicit, auth_needs_tls=True)
    layers = wire.server_layers()
    return wire.ServerEnd(session, layer=layers if implicit else None, starttls=layers)


def test_poplib_stls_then_user_and_pass():
    end = pop_end()
    client = wire.pop(end)
    capabilities = client.capa()
    assert "STLS" in capabilities and "USER" not in capabilities
    with pytest.raises(poplib.error_proto, match=r"\[AUTH\] Plaintext authentication"):
        client.user("bob")
    assert client.stls(context=wire.client_context()).startswith(b"+OK Begin TLS")
    assert "USER" in client.capa() and "STLS" not in client.capa()
    client.user("bob")
    client.pass_("secret")
    assert client.stat()[0] == 1
    _resp, lines, _octets = client.retr(1)
    assert b"\r\n".join(lines) + b"\r\n" == MESSAGE.replace(b"hello", b"hello 0")
    assert b"PASS" not in cleartext(end)
    with pytest.raises(poplib.error_proto, match="Unknown command: STLS"):
        client._shortcmd("STLS")                           # only before login (RFC 2595 §4)


def test_poplib_pop3_ssl_on_995_and_stls_injection():
    client = wire.pop_ssl(pop_end(implicit=True), wire.client_context())
    client.user("bob")
    client.pass_("secret")
    assert client.stat()[0] == 1
    end = pop_end()
    sock = wire.FakeSocket(end)
    sock.recv(4096)
    sock.sendall(b"STLS\r\nUSER bob\r\n")
    assert sock.recv(4096) == b"+OK Begin TLS negotiation now.\r\n"
    tls = wire.MemoryTlsSocket(sock, wire.client_context(), wire.HOST)
    tls.sendall(b"PASS secret\r\n")
    assert tls.read_all() == b"-ERR send USER first\r\n"   # the injected USER was dropped
