"""Mail clients: ``mail-send``, ``pop3-fetch`` and ``imap-client``, each printing its
session as the command-line tools do (swaks, fetchmail -v, an IMAP transcript)."""

from __future__ import annotations

import random
from email.message import EmailMessage

from netsim.apps.base import App
from netsim.apps.mail_common import IMAP, POP3, SMTP, SUBMISSION, body_sha256, sim_date
from netsim.apps.stream_io import converse
from netsim.apps.mail_server import MailServer
from netsim.apps.names import hosts_entry, lookup
from netsim.proto.ftp.tree import check_generated_size
from netsim.proto.mail import ImapClient, Pop3Client, SmtpClient
from netsim.proto.mail.imap_client import action_commands
from netsim.proto.mail.lines import crlf
from netsim.proto.mail.store import StoredMessage, summary_of
from netsim.wire.addr import ip_to_int


def transcript_lines(transcript, *, client="->", server="<-") -> list[str]:
    return [f"{client if d == 'C' else server}  {line}" for d, line in transcript]


class _MailClient(App):
    """What the three clients share: find the server, connect, converse, report."""

    PORT = SMTP
    TARGETS = ("server",)

    #: How the transcript marks client and server lines (as the tool prints them).
    MARKS = ("->", "<-")

    def start(self) -> None:
        self.env.process(self._session())

    def _session(self):
        """Connect to ``server``, let the engine talk, print the transcript and report."""
        _, address = self.resolve(self.server)
        sock = yield from self._connect(address, self.port)
        if sock is None:
            return
        self.client = self._engine()
        yield from converse(sock, self.client)
        self.lines.extend(transcript_lines(self.client.transcript, client=self.MARKS[0],
                                           server=self.MARKS[1]))
        self._report(self.client)

    @property
    def done(self) -> bool:
        return self.client is not None and self.client.finished

    def progress(self) -> str:
        return f"{self.name} session not over" if self.client else "not connected"

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
        "from": {"$ref": "#/$defs/email", "description": "the sender: alice@qq.com"},
        "to": {"anyOf": [{"$ref": "#/$defs/email"}, {"type": "array", "items": {"$ref": "#/$defs/email"}}],
               "description": "recipient(s)"},
        "cc": {"anyOf": [{"$ref": "#/$defs/email"}, {"type": "array", "items": {"$ref": "#/$defs/email"}}],
               "description": "copy recipient(s)"},
        "subject": {"$ref": "#/$defs/line", "default": "", "description": "the Subject: line"},
        "body": {"type": "string", "default": "", "description": "the message text"},
        "attachment": {"$ref": "#/$defs/size",
                       "description": "attach this many bytes of (deterministic) data"},
        "server": {"type": "string", "description": "the submission server (default: the MX of "
                                                    "the sender's domain)"},
        "port": {"type": "integer", "minimum": 1, "maximum": 65535,
                 "description": "587 with a password (submission), else 25"},
        "password": {"$ref": "#/$defs/ascii_line", "description": "AUTH PLAIN with the sender's user name"},
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
        if attachment:
            check_generated_size(attachment, "attachment")
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
              "user": {"$ref": "#/$defs/ascii_word", "description": "the mailbox's user name"},
              "password": {"$ref": "#/$defs/ascii_line", "description": "its password"},
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

    def _engine(self) -> Pop3Client:
        return Pop3Client(self.user, self.password, delete=self.delete)

    def _report(self, c: Pop3Client) -> None:
        if c.error:
            self.error = c.error
            self.say(f"*** {c.error}")
        else:
            size = sum(len(r.data) for r in c.retrieved)
            self.say(f"=== {len(c.retrieved)} messages ({size} octets) for {self.user} at "
                     f"{self.server}" + (" (deleted on the server)" if self.delete else
                                         " (left on the server)"))

    def result(self) -> dict:
        c = self.client
        if c is None:
            return {"server": self.server, "user": self.user, "messages": []}
        return {"server": self.server, "user": self.user, "deleted": self.delete,
                "bytes_downloaded": sum(len(r.data) for r in c.retrieved),
                "messages": [{"number": r.number, "uid": r.uid,
                              **summary_of(StoredMessage(0, r.data, 0.0))} for r in c.retrieved]}


class ImapClientApp(_MailClient):
    """Works on a mailbox over IMAP (RFC 3501): a list of actions a person takes in a
    mail program, after LOGIN and SELECT INBOX; prints the session."""

    name = "imap-client"
    SCHEMA = {"server": {"type": "string", "description": "the IMAP server (node, address or name)"},
              "user": {"$ref": "#/$defs/ascii_word", "description": "the mailbox's user name"},
              "password": {"$ref": "#/$defs/ascii_line", "description": "its password"},
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

    MARKS = ("C:", "S:")

    def _engine(self) -> ImapClient:
        return ImapClient(self.user, self.password, self.actions)

    def _report(self, c: ImapClient) -> None:
        if c.errors:
            self.error = c.errors[0]
            self.say(f"*** {self.error}")
        opened = [n for n, m in c.messages.items() if "body" in m]
        self.say(f"=== {len(c.messages)} messages listed, {len(opened)} opened, "
                 f"{c.bytes_downloaded} bytes from the server")

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
