"""The asyncio-smtp scenario's programs: an SMTP server written with aiosmtpd and a
client written with aiosmtplib — unchanged library code, on simulated hosts, in
simulated time (netsim.aio). Each function is one `run: python` app."""

import asyncio

from aiosmtpd.smtp import SMTP
from aiosmtplib import SMTP as Client


class Mailbox:
    """aiosmtpd's handler: every message accepted is printed, then kept."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        now = asyncio.get_running_loop().time()
        print(f"{now:.3f} s  from {envelope.mail_from} to {', '.join(envelope.rcpt_tos)}: "
              f"{len(envelope.content)} bytes")
        self.messages.append(envelope.content)
        return "250 Message accepted for delivery"


async def server(host, port=25):
    loop = asyncio.get_running_loop()
    mailbox = Mailbox()
    listener = await loop.create_server(lambda: SMTP(mailbox), port=port)
    print(f"aiosmtpd listening on {host.name}:{listener.sockets[0].getsockname()[1]}")
    await listener.serve_forever()


async def client(host, server, port=25, messages=3, size=20000):
    loop = asyncio.get_running_loop()
    body = ("All work and no play makes Jack a dull boy.\r\n" * (size // 45 + 1))[:size]
    smtp = Client(hostname=server, port=port, timeout=30)
    await smtp.connect()
    print(f"{loop.time():.3f} s  connected: {smtp.last_ehlo_response.message.splitlines()[0]}")
    for n in range(1, messages + 1):
        message = (f"From: alice@{host.name}\r\nTo: bob@{server}\r\nSubject: note {n}\r\n\r\n"
                   + body)
        errors, reply = await smtp.sendmail(f"alice@{host.name}", [f"bob@{server}"], message)
        print(f"{loop.time():.3f} s  message {n}: {reply}")
    await smtp.quit()
    print(f"{loop.time():.3f} s  done")
    return messages
