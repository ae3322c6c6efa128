"""netsim's SMTP server judged by aiosmtplib, and netsim's SMTP client by aiosmtpd, in
simulated time (RFC 5321, RFC 6409 submission with AUTH PLAIN, RFC 4954)."""

from __future__ import annotations

import asyncio
import email

import pytest

aiosmtplib = pytest.importorskip("aiosmtplib")
aiosmtpd_smtp = pytest.importorskip("aiosmtpd.smtp")

from tests.aio.conftest import unhandled  # noqa: E402
from tests.aio.interop import network  # noqa: E402

MAIL_SERVER = "  - {node: server, run: mail-server, domain: example.org, users: {bob: bob-pw, alice: al-pw}}"


def test_aiosmtplib_sends_through_netsims_mail_server(socket_calls):
    net, nodes = network(MAIL_SERVER)

    async def send():
        message = email.message.EmailMessage()
        message["From"], message["To"], message["Subject"] = ("carol@elsewhere.net",
                                                              "bob@example.org", "hello")
        message.set_content("Hi Bob,\n.\nA line with only a dot, above.\n")
        smtp = aiosmtplib.SMTP(hostname="server", port=25, timeout=10)
        await smtp.connect()
        ehlo, extensions = smtp.last_ehlo_response, dict(smtp.esmtp_extensions)
        errors, reply = await smtp.send_message(message)
        await smtp.quit()
        return ehlo.code, extensions, errors, reply

    code, extensions, errors, reply = nodes["client"].run_async(send())
    assert code == 250 and errors == {}
    assert "size" in extensions and "8bitmime" in extensions
    app = net.apps[0]
    (stored,) = [m.data for m in app.store.folder("bob", "INBOX").messages]
    assert b"A line with only a dot, above." in stored and b"\r\n..\r\n" not in stored
    assert socket_calls == [] and unhandled(nodes["client"]) == []


def test_aiosmtplib_submits_with_auth_plain(socket_calls):
    net, nodes = network(MAIL_SERVER)

    async def submit():
        smtp = aiosmtplib.SMTP(hostname="server", port=587, timeout=10)
        await smtp.connect()
        await smtp.login("alice", "al-pw")
        errors, _reply = await smtp.sendmail("alice@example.org", ["bob@example.org"],
                                             b"Subject: via 587\r\n\r\nsubmitted\r\n")
        with pytest.raises(aiosmtplib.SMTPAuthenticationError):
            bad = aiosmtplib.SMTP(hostname="server", port=587, timeout=10)
            await bad.connect()
            await bad.login("alice", "wrong")
        await smtp.quit()
        return errors

    assert nodes["client"].run_async(submit()) == {}
    assert len(net.apps[0].store.folder("bob", "INBOX").messages) == 1


def test_aiosmtpd_receives_from_netsims_mail_send(socket_calls):
    """The reverse: netsim's mail-send (swaks-like) submits to a real aiosmtpd server."""
    net, nodes = network("""  - node: client
    at: 1s
    run: mail-send
    from: alice@example.org
    to: bob@example.org
    subject: from netsim
    body: "Hello from netsim's client.\\n"
    server: server
    port: 25""")
    got = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            got.append((envelope.mail_from, envelope.rcpt_tos, envelope.content))
            return "250 OK stored"

    async def serve():
        loop = asyncio.get_running_loop()
        await loop.create_server(lambda: aiosmtpd_smtp.SMTP(Handler()), port=25)

    nodes["server"].start_async(serve())
    net.run(until=30)
    (sender,) = net.apps
    assert sender.status == "finished", sender.lines
    (mail_from, rcpt, content), = got
    assert (mail_from, rcpt) == ("alice@example.org", ["bob@example.org"])
    assert b"Subject: from netsim" in content and b"Hello from netsim's client." in content
    assert socket_calls == []


RELAY = """
name: relay-to-aiosmtpd
nodes:
  alice:  {kind: host, ip: 10.0.0.1/24}
  mailqq: {kind: host, ip: 10.0.0.25/24, dns: 10.0.0.53}
  ns:     {kind: host, ip: 10.0.0.53/24}
  mx:     {kind: host, ip: 10.0.0.26/24}
  lan:    {kind: switch}
links:
  - {endpoints: [alice, lan]}
  - {endpoints: [mailqq, lan]}
  - {endpoints: [ns, lan]}
  - {endpoints: [mx, lan]}
apps:
  - node: ns
    run: dns-server
    zones:
      - origin: other.org
        records: ["@ SOA ns admin 1 7200 900 1209600 300", "@ NS ns", "ns A 10.0.0.53",
                  "@ MX 10 mx", "mx A 10.0.0.26"]
  - {node: mailqq, run: mail-server, domain: qq.com, users: {alice: al-pw}}
  - node: alice
    at: 1s
    run: mail-send
    from: alice@qq.com
    to: bob@other.org
    subject: relayed
    body: "Across two servers.\\n"
    server: mailqq
    password: al-pw
"""


def test_aiosmtpd_receives_from_netsims_relay(socket_calls):
    """netsim's mail server looks up other.org's MX and relays to aiosmtpd there."""
    from netsim import parse_scenario

    net = parse_scenario(RELAY).build(seed=3)
    got = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            got.append((session.host_name, envelope.mail_from, envelope.rcpt_tos,
                        envelope.content))
            return "250 2.0.0 Ok: queued"

    async def serve():
        await asyncio.get_running_loop().create_server(lambda: aiosmtpd_smtp.SMTP(Handler()),
                                                       port=25)

    net.nodes["mx"].start_async(serve())
    net.run(until=60)
    sender = next(a for a in net.apps if a.name == "mail-send")
    assert sender.status == "finished", sender.lines
    (helo, mail_from, rcpt, content), = got
    assert (mail_from, rcpt) == ("alice@qq.com", ["bob@other.org"])
    assert helo == "mail.qq.com"
    assert b"Received: from" in content and b"Across two servers." in content
    assert socket_calls == []
