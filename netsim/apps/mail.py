"""Mail on the network: ``mail-server`` (SMTP 25 and submission 587, POP3 110, IMAP 143,
relaying through DNS MX records with a retry queue and bounces) and the clients
``mail-send``, ``pop3-fetch`` and ``imap-client``, each printing its session as the
command-line tools do (swaks, fetchmail -v, an IMAP transcript).
"""

from __future__ import annotations

import hashlib
import random
from email.message import EmailMessage, Message
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime

from netsim.apps.base import App, host_names
from netsim.apps.names import hosts_entry, lookup
from netsim.proto.mail import (Accepted, Close, ImapClient, ImapServerSession, MailStore, Policy,
                               Pop3Client, Pop3ServerSession, Send, SmtpClient, SmtpServerSession)
from netsim.proto.mail.imap import EPOCH, action_commands
from netsim.proto.mail.lines import crlf
from netsim.proto.mail.store import summary_of
from netsim.wire.addr import int_to_ip, ip_to_int, prefix_mask

SMTP, SUBMISSION, POP3, IMAP = 25, 587, 110, 143


def sim_date(seconds: float) -> str:
    """RFC 5322 date of a simulated instant (the run starts 2024-01-01 00:00 UTC)."""
    import datetime
    return format_datetime(datetime.datetime.fromtimestamp(EPOCH + seconds, datetime.timezone.utc))


def body_sha256(data: bytes) -> str:
    """SHA-256 of a message's body: what follows the header's blank line."""
    end = data.find(b"\r\n\r\n")
    return hashlib.sha256(b"" if end < 0 else data[end + 4:]).hexdigest()


def _fields(*pairs) -> Message:
    block = Message()
    for name, value in pairs:
        block[name] = value
    return block


def converse(sock, engine):
    """A SimPy process: carry an engine's Send/Close outputs to ``sock`` and what arrives
    back into ``engine.receive`` until one side closes."""
    while True:
        closing = False
        for out in engine.outputs():
            if isinstance(out, Send):
                yield sock.send(out.data)
            elif isinstance(out, Close):
                closing = True
        if closing:
            sock.close()
            yield sock.closed
            return
        data = yield sock.recv()
        if not data:
            engine.connection_lost()
            for out in engine.outputs():
                if isinstance(out, Send):
                    yield sock.send(out.data)
            sock.close()
            return
        engine.receive(data)


def transcript_lines(transcript, *, client="->", server="<-") -> list[str]:
    return [f"{client if d == 'C' else server}  {line}" for d, line in transcript]


class MailServer(App):
    """The mail server for a domain: SMTP with relaying, submission with AUTH PLAIN,
    POP3 and IMAP over one mailbox store (RFC 5321, 6409, 1939, 3501)."""

    name = "mail-server"
    SCHEMA = {
        "domain": {"type": "string", "description": "the mail domain it delivers: 163.com"},
        "users": {"type": "object", "minProperties": 1, "additionalProperties": {"type": "string"},
                  "description": "user → password: {bob: secret}"},
        "hostname": {"type": "string", "description": "its name in greetings and Received: "
                                                      "headers (default mail.DOMAIN)"},
        "relay_from": {"type": "array", "items": {"$ref": "#/$defs/cidr"},
                       "description": "networks whose clients may relay without AUTH (default: "
                                      "none; submission with AUTH always may)"},
        "retry": {"$ref": "#/$defs/interval", "default": "30s",
                  "description": "first wait before retrying a deferred message (doubles)"},
        "give_up": {"$ref": "#/$defs/interval", "default": "10min",
                    "description": "how long a message may wait in the queue before it bounces"},
        "max_size": {"$ref": "#/$defs/size", "default": "10MiB",
                     "description": "largest message accepted (SIZE)"},
    }
    REQUIRED = ["domain", "users"]
    SERVICE = True
    BINDS = ("tcp", SMTP)
    EXAMPLE = {"node": "mail163", "run": "mail-server", "domain": "163.com",
               "users": {"bob": "secret"}}

    def __init__(self, node, *, domain: str, users: dict[str, str], hostname: str | None = None,
                 relay_from: list[str] | None = None, retry: float = 30.0, give_up: float = 600.0,
                 max_size: int = 10 * 1024 * 1024, at: float = 0.0) -> None:
        super().__init__(node, at=at)
        self.domain = domain.lower().rstrip(".")
        self.hostname = hostname or f"mail.{self.domain}"
        self.store = MailStore(users)
        nets = []
        for cidr in relay_from or []:
            address, _, plen = cidr.partition("/")
            nets.append((ip_to_int(address) & prefix_mask(int(plen)), prefix_mask(int(plen))))
        self.policy = Policy(self.hostname, {self.domain}, set(users), nets, dict(users),
                             max_size=max_size)
        self.retry, self.give_up = retry, give_up
        self.queue: list[dict] = []
        self._ids = 0
        self.counts = {"received": 0, "delivered": 0, "relayed": 0, "deferred": 0, "bounced": 0}
        #: Every message's fate: queue id → what happened, in order.
        self.log: list[dict] = []

    # -- listening ---------------------------------------------------------------------------

    def start(self) -> None:
        names = host_names(self.network)
        for port, make in ((SMTP, lambda s: SmtpServerSession(self.policy, ip_to_int(s.remote[0]))),
                           (SUBMISSION, lambda s: SmtpServerSession(self.policy, ip_to_int(s.remote[0]),
                                                                    submission=True)),
                           (POP3, lambda s: Pop3ServerSession(self.store, self.hostname)),
                           (IMAP, lambda s: ImapServerSession(self.store, self.hostname,
                                                              self.env.now))):
            listener = self.node.tcp_listen(port)
            self.env.process(self._accept(listener, make, names))

    def _accept(self, listener, make, names):
        while True:
            sock = yield listener.accept()
            session = make(sock)
            self.env.process(self._session(sock, session, names))

    def _session(self, sock, session, _names):
        peer = sock.remote[0]
        while True:
            closing = False
            for out in session.outputs():
                if isinstance(out, Send):
                    yield sock.send(out.data)
                elif isinstance(out, Close):
                    closing = True
                elif isinstance(out, Accepted):
                    # The peer's name as reverse DNS would give it; netsim's hosts table here.
                    name = host_names(self.network).get(ip_to_int(peer), "unknown")
                    self._accepted(out, peer, name)
            self._update_busy()
            if closing:
                sock.close()
                return
            data = yield sock.recv()
            if not data:
                if hasattr(session, "connection_lost"):
                    session.connection_lost()
                self._update_busy()
                sock.close()
                return
            session.receive(data)

    def _update_busy(self) -> None:
        self.policy.busy = set(self.store.locks)

    # -- what was accepted -------------------------------------------------------------------

    def _accepted(self, message: Accepted, peer: str, peer_name: str) -> None:
        qid = self._queue_id()
        self.counts["received"] += 1
        by = "ESMTPSA" if message.authenticated else "ESMTP"
        local, remote = [], []
        for rcpt in message.recipients:
            (local if rcpt.rpartition("@")[2].lower() == self.domain else remote).append(rcpt)
        for rcpt in local:
            self._deliver(rcpt, self._stamped(message.data, message.helo, peer_name, peer, by, qid,
                                              rcpt), qid, message.mail_from)
        if remote:
            stamped = self._stamped(message.data, message.helo, peer_name, peer, by, qid,
                                    remote[0] if len(remote) == 1 else None)
            self._enqueue(qid, message.mail_from, remote, stamped)

    def _queue_id(self) -> str:
        """A Postfix-looking queue id, unique per server and the same in every run."""
        self._ids += 1
        prefix = hashlib.sha256(self.hostname.encode()).hexdigest()[:6].upper()
        return f"{prefix}{self._ids:04X}"

    def _stamped(self, data: bytes, helo: str, peer_name: str, peer: str, by: str, qid: str,
                 rcpt: str | None) -> bytes:
        """RFC 5321 §4.4: each server that takes a message puts a Received: line on top."""
        for_clause = f"\r\n\tfor <{rcpt}>" if rcpt else ""
        header = (f"Received: from {helo} ({peer_name} [{peer}])\r\n\tby {self.hostname} (netsim) "
                  f"with {by} id {qid}{for_clause}; {sim_date(self.env.now)}\r\n")
        return header.encode() + data

    def _deliver(self, rcpt: str, data: bytes, qid: str, mail_from: str) -> None:
        user = rcpt.rpartition("@")[0]
        self.store.deliver(user, data, self.env.now)
        self.counts["delivered"] += 1
        self.log.append({"id": qid, "t": self.env.now, "to": rcpt, "status": "delivered",
                         "mailbox": f"{user}/INBOX"})
        self.say(f"{qid}: to=<{rcpt}>, relay=local, status=sent (delivered to mailbox {user})")

    # -- the queue and relaying ----------------------------------------------------------------

    def _enqueue(self, qid: str, mail_from: str, recipients: list[str], data: bytes) -> None:
        by_domain: dict[str, list[str]] = {}
        for rcpt in recipients:
            by_domain.setdefault(rcpt.rpartition("@")[2].lower(), []).append(rcpt)
        for domain, rcpts in by_domain.items():
            entry = {"id": qid, "from": mail_from, "to": rcpts, "domain": domain, "data": data,
                     "since": self.env.now, "attempts": 0, "wait": self.retry}
            self.queue.append(entry)
            self.env.process(self._relay(entry))

    def _relay(self, entry):
        while True:
            entry["attempts"] += 1
            outcome = yield from self._try_relay(entry)
            if outcome == "done":
                self.queue.remove(entry)
                return
            if outcome == "bounced" or self.env.now - entry["since"] >= self.give_up:
                if outcome != "bounced":
                    self._bounce(entry, entry["to"], f"delivery temporarily suspended: "
                                                     f"{entry.get('last_error', 'unknown')}; "
                                                     "gave up after its time in the queue")
                self.queue.remove(entry)
                return
            self.counts["deferred"] += 1
            self.say(f"{entry['id']}: to=<{', '.join(entry['to'])}>, status=deferred "
                     f"({entry['last_error']}), retry in {entry['wait']:g} s")
            yield self.env.timeout(entry["wait"])
            entry["wait"] = min(entry["wait"] * 2, 3600.0)

    def _try_relay(self, entry):
        """One delivery attempt for a queue entry: MX lookup, then each exchange in
        preference order (falling back to the domain's A record, RFC 5321 §5.1)."""
        domain = entry["domain"]
        answer = yield lookup(self.node, domain, "MX")
        if answer.error == "Name or service not known":
            self._bounce(entry, entry["to"], f"Host or domain name not found. Name service error "
                                             f"for name={domain} type=MX: Host not found")
            return "bounced"
        if answer.error and answer.error != "No address associated with hostname":
            entry["last_error"] = f"Host or domain name lookup for {domain} failed: {answer.error}"
            return "deferred"
        exchanges = sorted((int(rd.split()[0]), rd.split()[1].rstrip(".")) for rd in answer.addresses) \
            if answer.addresses else [(0, domain)]
        for _preference, exchange in exchanges:
            address = hosts_entry(self.network, exchange)
            if address is None:
                a = yield lookup(self.node, exchange, "A")
                if a.error:
                    entry["last_error"] = f"{exchange}: {a.error}"
                    continue
                address = ip_to_int(a.addresses[0])
            result = yield from self._smtp_to(entry, exchange, address)
            if result in ("done", "bounced"):
                return result
        return "deferred"

    def _smtp_to(self, entry, exchange: str, address: int):
        relay = f"{exchange}[{int_to_ip(address)}]:25"
        try:
            sock = self.node.tcp_connect(address, SMTP)
        except OSError as exc:
            entry["last_error"] = f"connect to {relay}: {exc}"
            return "deferred"
        try:
            yield sock.connected
        except ConnectionError as exc:
            entry["last_error"] = f"connect to {relay}: {'Connection refused' if 'refused' in str(exc) else 'Connection timed out'}"
            return "deferred"
        client = SmtpClient(helo=self.hostname, mail_from=entry["from"], recipients=entry["to"],
                            data=entry["data"])
        yield from converse(sock, client)
        done = client.done
        if done is None:
            entry["last_error"] = f"lost connection with {relay}"
            return "deferred"
        for rcpt in done.delivered:
            self.counts["relayed"] += 1
            self.log.append({"id": entry["id"], "t": self.env.now, "to": rcpt, "status": "relayed",
                             "relay": relay})
            final = client.final_reply
            self.say(f"{entry['id']}: to=<{rcpt}>, relay={relay}, status=sent "
                     f"({final.code} {final.text})")
        permanent = {r: reply for r, reply in done.failed.items() if not reply.transient and reply.code}
        if permanent:
            for rcpt, reply in permanent.items():
                self._bounce(entry, [rcpt], f"host {relay} said: {reply.code} {reply.text}")
        left = [r for r in entry["to"] if r not in done.delivered and r not in permanent]
        entry["to"] = left
        if not left:
            return "done"
        reply = done.failed.get(left[0]) or done.error
        entry["last_error"] = f"host {relay} said: {reply.code} {reply.text}" if reply else \
            f"lost connection with {relay}"
        return "deferred"

    def _bounce(self, entry, recipients: list[str], why: str) -> None:
        """A delivery status notification to the sender (RFC 3464), from MAILER-DAEMON;
        never for a bounce (null sender), so two servers cannot bounce forever."""
        self.counts["bounced"] += len(recipients)
        for rcpt in recipients:
            self.log.append({"id": entry["id"], "t": self.env.now, "to": rcpt, "status": "bounced",
                             "why": why})
            self.say(f"{entry['id']}: to=<{rcpt}>, status=bounced ({why})")
        sender = entry["from"]
        if not sender:
            return
        # RFC 3464: multipart/report with a human part and a message/delivery-status part.
        report = MIMEMultipart("report", report_type="delivery-status",
                               boundary=f"=_netsim_bounce_{entry['id']}")
        report["From"] = f"MAILER-DAEMON@{self.hostname}"
        report["To"] = sender
        report["Subject"] = "Undelivered Mail Returned to Sender"
        report["Date"] = sim_date(self.env.now)
        report["Message-ID"] = f"<{entry['id']}.bounce@{self.hostname}>"
        report.attach(MIMEText(f"This is the mail system at host {self.hostname}.\n\n"
                               "I'm sorry to have to inform you that your message could not be "
                               "delivered to one or more recipients.\n\n"
                               + "".join(f"<{r}>: {why}\n" for r in recipients)))
        # Its body is blocks of fields, which the email package keeps as header-only messages.
        blocks = [_fields(("Reporting-MTA", f"dns; {self.hostname}"))]
        blocks += [_fields(("Final-Recipient", f"rfc822; {r}"), ("Action", "failed"),
                           ("Status", "5.0.0"), ("Diagnostic-Code", f"smtp; {why}"))
                   for r in recipients]
        status = MIMEBase("message", "delivery-status")
        status.set_payload(blocks)
        report.attach(status)
        data = crlf(report.as_bytes())
        qid = self._queue_id()
        if sender.rpartition("@")[2].lower() == self.domain:
            self._deliver(sender, data, qid, "")
        else:
            self._enqueue(qid, "", [sender], data)

    # -- the end -------------------------------------------------------------------------------

    def summary_line(self) -> str:
        c = self.counts
        boxes = ", ".join(f"{u}: {len(f['INBOX'].messages)}" for u, f in self.store.folders.items())
        return (f"mail-server {self.hostname}: {c['received']} messages received, "
                f"{c['delivered']} delivered locally, {c['relayed']} relayed, {c['deferred']} "
                f"deferrals, {c['bounced']} bounced, {len(self.queue)} still queued; "
                f"mailboxes: {boxes}")

    def result(self) -> dict:
        return {"hostname": self.hostname, "domain": self.domain, **self.counts,
                "queued": [{"id": e["id"], "to": e["to"], "attempts": e["attempts"],
                            "last_error": e.get("last_error")} for e in self.queue],
                "log": self.log, "mailboxes": self.store.contents()}


class _MailClient(App):
    """What the three clients share: find the server, connect, converse, report."""

    PORT = SMTP
    TARGETS = ("server",)

    def _connect(self, address: int, port: int):
        name = self.server
        self.say(f"=== Trying {name}:{port}...")
        try:
            sock = self.node.tcp_connect(address, port)
        except OSError:
            self.error = "connect: Network is unreachable"
            self.say(f"*** {self.error}")
            return None
        try:
            yield sock.connected
        except ConnectionError as exc:
            self.error = f"connect: {'Connection refused' if 'refused' in str(exc) else exc}"
            self.say(f"*** Error connecting to {name}:{port}: {self.error}")
            return None
        self.say(f"=== Connected to {name}.")
        return sock


class MailSend(_MailClient):
    """Writes a message and submits it to its own domain's server (RFC 6409), printing
    the SMTP session as swaks does."""

    name = "mail-send"
    SCHEMA = {
        "from": {"type": "string", "description": "the sender: alice@qq.com"},
        "to": {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}],
               "description": "recipient(s)"},
        "cc": {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}],
               "description": "copy recipient(s)"},
        "subject": {"type": "string", "default": "", "description": "the Subject: line"},
        "body": {"type": "string", "default": "", "description": "the message text"},
        "attachment": {"$ref": "#/$defs/size",
                       "description": "attach this many bytes of (deterministic) data"},
        "server": {"type": "string", "description": "the submission server (default: the MX of "
                                                    "the sender's domain)"},
        "port": {"type": "integer", "minimum": 1, "maximum": 65535,
                 "description": "587 with a password (submission), else 25"},
        "password": {"type": "string", "description": "AUTH PLAIN with the sender's user name"},
    }
    REQUIRED = ["from", "to"]
    EXAMPLE = {"node": "alice", "at": "1s", "run": "mail-send", "from": "alice@qq.com",
               "to": "bob@163.com", "subject": "hello", "body": "Hi Bob!", "password": "secret",
               "server": "mailqq"}

    def __init__(self, node, *, to, cc=None, subject: str = "", body: str = "",
                 attachment: int | None = None, server: str | None = None, port: int | None = None,
                 password: str | None = None, at: float = 0.0, **kwargs) -> None:
        super().__init__(node, at=at)
        self.sender = kwargs.pop("from")
        self.to = [to] if isinstance(to, str) else list(to)
        self.cc = [cc] if isinstance(cc, str) else list(cc or [])
        self.subject, self.body, self.attachment = subject, body, attachment
        self.server = server
        self.password = password
        self.port = port or (SUBMISSION if password else SMTP)
        self.client: SmtpClient | None = None
        self.data = b""
        self._message_id = ""

    def start(self) -> None:
        self.data = self._compose()
        self.env.process(self._run())

    def _compose(self) -> bytes:
        msg = EmailMessage()
        msg["From"] = self.sender
        msg["To"] = ", ".join(self.to)
        if self.cc:
            msg["Cc"] = ", ".join(self.cc)
        msg["Subject"] = self.subject
        msg["Date"] = sim_date(self.env.now)
        domain = self.sender.rpartition("@")[2]
        self._message_id = f"<{self.network.seed}.{self.env.now:.6f}.{self.node.name}@{domain}>"
        msg["Message-ID"] = self._message_id
        msg.set_content(self.body or "\n")
        if self.attachment:
            data = random.Random(f"{self.network.seed}-{self.node.name}").randbytes(self.attachment)
            msg.add_attachment(data, maintype="application", subtype="octet-stream",
                               filename="attachment.bin")
            # The email package draws a random boundary; a run must give the same bytes.
            msg.set_boundary(f"=_netsim_{self.network.seed}_{self.node.name}_{self.env.now:.6f}")
        return crlf(msg.as_bytes())

    def _run(self):
        if self.server is None:
            domain = self.sender.rpartition("@")[2]
            answer = yield lookup(self.node, domain, "MX")
            if answer.error or not answer.addresses:
                self.error = f"no mail server for {domain}: {answer.error or 'no MX record'}"
                self.say(f"*** {self.error}")
                return
            self.server = min(answer.addresses, key=lambda rd: int(rd.split()[0])).split()[1].rstrip(".")
        address = self.resolved.get(self.server) or hosts_entry(self.network, self.server)
        if address is None:
            answer = yield lookup(self.node, self.server)
            if answer.error:
                self.error = f"{self.server}: {answer.error}"
                self.say(f"*** {self.error}")
                return
            address = ip_to_int(answer.addresses[0])
        sock = yield from self._connect(address, self.port)
        if sock is None:
            return
        user = self.sender.rpartition("@")[0]
        self.client = SmtpClient(helo=self.node.name, mail_from=self.sender,
                                 recipients=self.to + self.cc, data=self.data,
                                 auth=(user, self.password) if self.password else None)
        yield from converse(sock, self.client)
        self.lines.extend(transcript_lines(self.client.transcript, client=" ->", server="<- "))
        done = self.client.done
        if done is None or not done.delivered:
            why = (done.error or next(iter(done.failed.values()), None)) if done else None
            self.error = f"not accepted: {why.code} {why.text}" if why else "not accepted"
            self.say(f"*** {self.error}")
        else:
            for rcpt, reply in done.failed.items():
                self.say(f"*** <{rcpt}> refused: {reply.code} {reply.text}")
            self.say(f"=== Connection closed with remote host. Accepted for "
                     f"{', '.join(done.delivered)}.")

    @property
    def done(self) -> bool:
        return self.client is not None and self.client.done is not None and self.error is None

    def progress(self) -> str:
        return "SMTP session not over" if self.client else "not connected"

    def arrived(self) -> list[dict]:
        """Where the message ended up: each mailbox holding it (found by Message-ID on
        every mail server of the run), its Received: path, and whether its body is the
        one sent, byte for byte."""
        out = []
        mid = self._message_id
        for app in self.network.apps:
            if not isinstance(app, MailServer):
                continue
            for user, folders in app.store.folders.items():
                for folder, box in folders.items():
                    for message in box.messages:
                        if f"Message-ID: {mid}".encode() not in message.header:
                            continue
                        info = summary_of(message)
                        out.append({"mailbox": f"{user}@{app.domain}/{folder}",
                                    "server": app.hostname, "received": info["received"],
                                    "body_sha256": info["body_sha256"],
                                    "intact": info["body_sha256"] == body_sha256(self.data)})
        return out

    def result(self) -> dict:
        done = self.client.done if self.client else None
        return {"from": self.sender, "message_id": self._message_id, "arrived": self.arrived(), "to": self.to, "cc": self.cc, "subject": self.subject,
                "server": self.server, "port": self.port, "size": len(self.data),
                "body_sha256": body_sha256(self.data),
                "accepted_for": list(done.delivered) if done else [],
                "refused": {r: f"{x.code} {x.text}" for r, x in done.failed.items()} if done else {}}


class Pop3Fetch(_MailClient):
    """Downloads every message in a mailbox over POP3 (RFC 1939), optionally deleting it
    on the server, as fetchmail does; prints the session."""

    name = "pop3-fetch"
    SCHEMA = {"server": {"type": "string", "description": "the POP3 server (node, address or name)"},
              "user": {"type": "string", "description": "the mailbox's user name"},
              "password": {"type": "string", "description": "its password"},
              "delete": {"type": "boolean", "default": False,
                         "description": "delete what was downloaded (at QUIT)"},
              "port": {"type": "integer", "minimum": 1, "maximum": 65535, "default": POP3,
                       "description": "the server's port"}}
    REQUIRED = ["server", "user", "password"]
    EXAMPLE = {"node": "laptop", "at": "5s", "run": "pop3-fetch", "server": "mail163",
               "user": "bob", "password": "secret"}

    def __init__(self, node, *, server: str, user: str, password: str, delete: bool = False,
                 port: int = POP3, at: float = 0.0) -> None:
        super().__init__(node, at=at)
        self.server, self.user, self.password = server, user, password
        self.delete, self.port = delete, port
        self.client: Pop3Client | None = None

    def start(self) -> None:
        self.env.process(self._run())

    def _run(self):
        _, address = self.resolve(self.server)
        sock = yield from self._connect(address, self.port)
        if sock is None:
            return
        self.client = Pop3Client(self.user, self.password, delete=self.delete)
        yield from converse(sock, self.client)
        self.lines.extend(transcript_lines(self.client.transcript))
        c = self.client
        if c.error:
            self.error = c.error
            self.say(f"*** {c.error}")
        else:
            size = sum(len(r.data) for r in c.retrieved)
            self.say(f"=== {len(c.retrieved)} messages ({size} octets) for {self.user} at "
                     f"{self.server}" + (" (deleted on the server)" if self.delete else
                                         " (left on the server)"))

    @property
    def done(self) -> bool:
        return self.client is not None and self.client.finished

    def progress(self) -> str:
        return "POP3 session not over" if self.client else "not connected"

    def result(self) -> dict:
        c = self.client
        if c is None:
            return {"server": self.server, "user": self.user, "messages": []}
        from netsim.proto.mail.store import StoredMessage
        return {"server": self.server, "user": self.user, "deleted": self.delete,
                "bytes_downloaded": sum(len(r.data) for r in c.retrieved),
                "messages": [{"number": r.number, "uid": r.uid,
                              **summary_of(StoredMessage(0, r.data, 0.0))} for r in c.retrieved]}


class ImapClientApp(_MailClient):
    """Works on a mailbox over IMAP (RFC 3501): a list of actions a person takes in a
    mail program, after LOGIN and SELECT INBOX; prints the session."""

    name = "imap-client"
    SCHEMA = {"server": {"type": "string", "description": "the IMAP server (node, address or name)"},
              "user": {"type": "string", "description": "the mailbox's user name"},
              "password": {"type": "string", "description": "its password"},
              "actions": {"type": "array", "items": {"type": "string"},
                          "default": ["list", "headers"],
                          "description": "what to do, in order: " + ", ".join(
                              ["list", "headers", "open N", "flag N [\\\\Flag]", "unflag N",
                               "move N Folder", "copy N Folder", "create Folder", "delete N",
                               "expunge", "noop", "select Folder", "examine Folder"])},
              "port": {"type": "integer", "minimum": 1, "maximum": 65535, "default": IMAP,
                       "description": "the server's port"}}
    REQUIRED = ["server", "user", "password"]
    EXAMPLE = {"node": "phone", "at": "6s", "run": "imap-client", "server": "mail163",
               "user": "bob", "password": "secret", "actions": ["list", "headers", "open 1"]}

    def __init__(self, node, *, server: str, user: str, password: str,
                 actions: list[str] | None = None, port: int = IMAP, at: float = 0.0) -> None:
        super().__init__(node, at=at)
        self.server, self.user, self.password = server, user, password
        self.actions = list(actions if actions is not None else ["list", "headers"])
        for action in self.actions:
            action_commands(action)                  # a bad action is an error now
        self.port = port
        self.client: ImapClient | None = None

    def start(self) -> None:
        self.env.process(self._run())

    def _run(self):
        _, address = self.resolve(self.server)
        sock = yield from self._connect(address, self.port)
        if sock is None:
            return
        self.client = ImapClient(self.user, self.password, self.actions)
        yield from converse(sock, self.client)
        self.lines.extend(transcript_lines(self.client.transcript, client="C:", server="S:"))
        c = self.client
        if c.errors:
            self.error = c.errors[0]
            self.say(f"*** {self.error}")
        opened = [n for n, m in c.messages.items() if "body" in m]
        self.say(f"=== {len(c.messages)} messages listed, {len(opened)} opened, "
                 f"{c.bytes_downloaded} bytes from the server")

    @property
    def done(self) -> bool:
        return self.client is not None and self.client.finished

    def progress(self) -> str:
        return "IMAP session not over" if self.client else "not connected"

    def result(self) -> dict:
        c = self.client
        if c is None:
            return {"server": self.server, "user": self.user}
        return {"server": self.server, "user": self.user, "actions": self.actions,
                "folders": c.folders, "bytes_downloaded": c.bytes_downloaded,
                "messages": {str(n): {("body_sha256" if k == "body" else k):
                                      (body_sha256(v) if k == "body" else v) for k, v in m.items()}
                             for n, m in sorted(c.messages.items())},
                "errors": c.errors}

