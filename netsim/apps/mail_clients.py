"""Mail clients: ``mail-send``, ``pop3-fetch`` and ``imap-client``, each printing its
session as the command-line tools do (swaks, fetchmail -v, an IMAP transcript). Each is
thin glue: its engine (:mod:`netsim.proto.mail`) runs on the one
:class:`~netsim.sim.runtime.StreamDriver`, and its result is read from the engine when
the connection is over.

``tls`` (RFC 8314) puts each on TLS: on the protocol's TLS port (465, 995, 993: the
default with ``tls``) from the first byte, on any other by STARTTLS (STLS), required —
``swaks --tls``, fetchmail's ``--sslproto``, imaplib's ``starttls()``. The certificate
is checked against the scenario's CA with the server's name (swaks with
``--tls-verify``; ``tls: {verify: false}`` is swaks without it), and a refusal is
worded as each tool words it."""

from __future__ import annotations

import random
from email.message import EmailMessage

from netsim.apps.base import App
from netsim.apps.mail_common import (IMAP, IMAPS, POP3, POP3S, SMTP, SMTPS, SUBMISSION,
                                     body_sha256, sim_date)
from netsim.apps.mail_server import MailServer
from netsim.apps.names import hosts_entry, lookup
from netsim.apps.tls import TLS_SCHEMA, tls_options, tls_world
from netsim.proto.ftp.tree import check_generated_size
from netsim.proto.mail import ImapClient, Pop3Client, SmtpClient
from netsim.proto.mail.imap_client import action_commands
from netsim.proto.mail.lines import crlf
from netsim.proto.mail.relay import exchanges_of
from netsim.proto.mail.store import StoredMessage, summary_of
from netsim.sim.runtime import StreamDriver
from netsim.wire.addr import int_to_ip, ip_to_int


def transcript_lines(transcript, *, client="->", server="<-", error=None,
                     tls=None) -> list[str]:
    """An engine's transcript as the tool prints it: ``C`` sent, ``S`` received, ``E`` a
    reply that was not the one expected (swaks's ``<**``), ``!`` the tool's own words,
    ``=`` its information; ``c``, ``s``, ``e`` the same inside TLS, marked with ``tls``
    (swaks's `` ~>``, ``<~ ``, ``<~*``) or as outside."""
    marks = {"C": client, "S": server, "E": error or server}
    inside = dict(zip("cse", tls or (marks["C"], marks["S"], marks["E"])))
    marks.update(inside)
    out = []
    for mark, line in transcript:
        if mark == "!":
            out.append(f"*** {line}")
        elif mark == "=":
            out.append(f"=== {line}")
        else:
            out.append(f"{marks[mark]}  {line}")
    return out


def peer_subject(layer) -> str | None:
    """The server certificate's subject as OpenSSL's X509_NAME_oneline writes it (what
    swaks prints as ``TLS peer DN="/CN=mail.163.com"``), read from a TLS layer."""
    from cryptography import x509
    der = layer.peer_certificate_der() if hasattr(layer, "peer_certificate_der") else None
    if not der:
        return None
    subject = x509.load_der_x509_certificate(der).subject
    return "".join(f"/{attr.rfc4514_attribute_name}={attr.value}" for attr in subject)


class _MailClient(App):
    """What the three clients share: find the server, connect, converse, report."""

    PORT = SMTP
    TLS_PORT = SMTPS
    TARGETS = ("server",)

    #: How the transcript marks client and server lines (as the tool prints them), and
    #: inside TLS (None: the same).
    MARKS = ("->", "<-")
    TLS_MARKS: tuple[str, str, str] | None = None
    _reported = False
    tls: dict | None = None

    def start(self) -> None:
        _, address = self.resolve(self.server)
        self.client = self._engine()
        self._open(address, self.port)

    @property
    def done(self) -> bool:
        return self.client is not None and self.client.finished

    def progress(self) -> str:
        return f"{self.name} session not over" if self.client else "not connected"

    def _open(self, address: int, port: int) -> None:
        """Connect to ``server`` and let the engine talk; :meth:`_ended` reports."""
        self.say(f"=== Trying {self.server}:{port}...")
        layer = starttls = None
        if self.tls is not None:
            world = tls_world(self.network)
            context = world.client_context(self.tls)
            host = self.server

            def starttls():
                return world.client_layer(context, self, host, port)
            if port == self.TLS_PORT:
                layer, starttls = starttls(), None
        self.driver = StreamDriver(self, self.client, layer=layer, starttls=starttls,
                                   on_end=self._ended)
        driver = self.driver
        if hasattr(self.client, "describe_tls"):
            self.client.describe_tls = lambda: (driver.layer.info(), peer_subject(driver.layer))
        self.driver.connect(int_to_ip(address), port)
        if self.driver.sock is not None:
            self.driver.sock.connected.callbacks.append(self._connected)

    def wrap_up(self) -> None:
        # A tool that said its last and closed has exited, even if the peer never
        # finished closing (the socket waits in FIN-WAIT-2): its session is reported.
        if not self._reported and self.client is not None and self._engine_done() \
                and getattr(self, "driver", None) is not None:
            self._ended(self.driver)
        super().wrap_up()

    def _engine_done(self) -> bool:
        return self.client.finished

    def _connected(self, event) -> None:
        if event.ok:
            self.say(f"=== Connected to {self.server}.")

    def _ended(self, driver: StreamDriver) -> None:
        if self._reported:
            return
        self._reported = True
        if driver.refused is not None:
            self.error = f"connect: {driver.refused}"
            if driver.sock is None:
                self.say(f"*** {self.error}")
            else:
                self.say(f"*** Error connecting to {self.server}:{self.port}: {self.error}")
            return
        self.lines.extend(transcript_lines(self.client.transcript, client=self.MARKS[0],
                                           server=self.MARKS[1], error=self._error_mark(),
                                           tls=self.TLS_MARKS))
        failure = driver.failure
        if failure is not None and any(line == failure for _m, line in self.client.transcript):
            self.error = failure                 # the tool's words are in its transcript
            failure = None
            self._report_tls_failure()
            return
        self._report(self.client, failure)

    def _report_tls_failure(self) -> None:
        """After a refused handshake the tool's own lines said it all."""

    def tls_result(self) -> dict:
        """For the result: ``{"port": …, "tls": {version, cipher} or {error}}`` with TLS,
        nothing without it (so a cleartext run's summary is what it was)."""
        if self.tls is None:
            return {}
        info = getattr(self.client, "tls_info", None) if self.client else None
        error = getattr(self.client, "tls_error", None) if self.client else None
        tls = {"version": info.version, "cipher": info.cipher} if info is not None else \
            {"error": error.message if error is not None else None}
        return {"port": self.port, "tls": tls}

    def _error_mark(self) -> str | None:
        return None

    def _engine(self):
        raise NotImplementedError

    def _report(self, client, failure: str | None) -> None:
        raise NotImplementedError


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
        "tls": {**TLS_SCHEMA, "description": (
            "submit over TLS: port 465 from the first byte (the default with a password, RFC "
            "8314), else STARTTLS required (swaks --tls); true or {version, verify}")},
    }
    REQUIRED = ["from", "to"]
    EXAMPLE = {"node": "alice", "at": "1s", "run": "mail-send", "from": "alice@qq.com",
               "to": "bob@163.com", "subject": "hello", "body": "Hi Bob!", "password": "secret",
               "server": "mailqq"}

    def __init__(self, node, *, to, cc=None, subject: str = "", body: str = "",
                 attachment: int | None = None, server: str | None = None, port: int | None = None,
                 password: str | None = None, tls=None, at: float = 0.0, **kwargs) -> None:
        super().__init__(node, at=at)
        self.tls = tls_options(tls)
        self.sender = kwargs.pop("from")
        self.to = [to] if isinstance(to, str) else list(to)
        self.cc = [cc] if isinstance(cc, str) else list(cc or [])
        self.subject, self.body, self.attachment = subject, body, attachment
        if attachment:
            check_generated_size(attachment, "attachment")
        self.server = server
        self.password = password
        if port is None and self.tls is not None and password:
            port = SMTPS
        self.port = port or (SUBMISSION if password else SMTP)
        self.client: SmtpClient | None = None
        self.data = b""
        self._message_id = ""

    MARKS = (" ->", "<- ")
    TLS_MARKS = (" ~>", "<~ ", "<~*")

    def start(self) -> None:
        self.data = self._compose()
        if self.server is None:
            # swaks without --server: the MX of the sender's domain.
            domain = self.sender.rpartition("@")[2]
            lookup(self.node, domain, "MX").callbacks.append(self._mx_found)
        else:
            self._find_server()

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

    def _mx_found(self, event) -> None:
        answer = event.value
        domain = self.sender.rpartition("@")[2]
        exchanges = exchanges_of(answer.addresses) if not answer.error else []
        if not exchanges:
            self.error = f"no mail server for {domain}: {answer.error or 'no MX record'}"
            self.say(f"*** {self.error}")
            return
        self.server = exchanges[0]
        self._find_server()

    def _find_server(self) -> None:
        address = self.resolved.get(self.server) or hosts_entry(self.network, self.server)
        if address is None:
            lookup(self.node, self.server).callbacks.append(self._address_found)
        else:
            self._submit(address)

    def _address_found(self, event) -> None:
        answer = event.value
        if answer.error or not answer.addresses:
            self.error = f"{self.server}: {answer.error or 'No address associated with hostname'}"
            self.say(f"*** {self.error}")
            return
        self._submit(ip_to_int(answer.addresses[0]))

    def _submit(self, address: int) -> None:
        user = self.sender.rpartition("@")[0]
        implicit = self.tls is not None and self.port == SMTPS
        self.client = SmtpClient(helo=self.node.name, mail_from=self.sender,
                                 recipients=self.to + self.cc, data=self.data,
                                 auth=(user, self.password) if self.password else None,
                                 starttls="require" if self.tls is not None and not implicit
                                 else None, tls=implicit)
        self._open(address, self.port)

    def _error_mark(self) -> str:
        return "<**"

    def _engine_done(self) -> bool:
        return self.client.done is not None

    def _report(self, client: SmtpClient, failure: str | None) -> None:
        done = client.done
        if failure is not None:
            self.error = failure
            self.say(f"*** {failure}")
        elif done is None or not done.delivered:
            why = (done.error or next(iter(done.failed.values()), None)) if done else None
            if why is not None and why.code == 0:
                self.error = why.text               # a timeout, or the connection lost
                if not any(line == why.text for _mark, line in client.transcript):
                    self.say(f"*** {why.text}")
            else:
                self.error = f"not accepted: {why}" if why else "not accepted"
                self.say(f"*** {self.error}")
        else:
            for rcpt, reply in done.failed.items():
                self.say(f"*** <{rcpt}> refused: {reply}")
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
        return {"from": self.sender, "message_id": self._message_id, "arrived": self.arrived(),
                "to": self.to, "cc": self.cc, "subject": self.subject,
                "server": self.server, "port": self.port, **self.tls_result(),
                "size": len(self.data),
                "body_sha256": body_sha256(self.data),
                "accepted_for": list(done.delivered) if done else [],
                "refused": {r: str(x) for r, x in done.failed.items()} if done else {}}


class Pop3Fetch(_MailClient):
    """Downloads every message in a mailbox over POP3 (RFC 1939), optionally deleting it
    on the server, as fetchmail does; prints the session."""

    name = "pop3-fetch"
    SCHEMA = {"server": {"type": "string", "description": "the POP3 server (node, address or name)"},
              "user": {"$ref": "#/$defs/ascii_word", "description": "the mailbox's user name"},
              "password": {"$ref": "#/$defs/ascii_line", "description": "its password"},
              "delete": {"type": "boolean", "default": False,
                         "description": "delete what was downloaded (at QUIT)"},
              "port": {"type": "integer", "minimum": 1, "maximum": 65535,
                       "description": "the server's port (110; 995 with tls)"},
              "tls": {**TLS_SCHEMA, "description": (
                  "over TLS: port 995 from the first byte (fetchmail --ssl), else STLS "
                  "required; true or {version, verify}")}}
    REQUIRED = ["server", "user", "password"]
    EXAMPLE = {"node": "laptop", "at": "5s", "run": "pop3-fetch", "server": "mail163",
               "user": "bob", "password": "secret"}

    TLS_PORT = POP3S

    def __init__(self, node, *, server: str, user: str, password: str, delete: bool = False,
                 port: int | None = None, tls=None, at: float = 0.0) -> None:
        super().__init__(node, at=at)
        self.server, self.user, self.password = server, user, password
        self.tls = tls_options(tls)
        self.delete = delete
        self.port = port if port is not None else (POP3S if self.tls is not None else POP3)
        self.client: Pop3Client | None = None

    def _engine(self) -> Pop3Client:
        implicit = self.tls is not None and self.port == POP3S
        return Pop3Client(self.user, self.password, delete=self.delete, server=self.server,
                          starttls=self.tls is not None and not implicit, tls=implicit)

    def _report(self, c: Pop3Client, failure: str | None) -> None:
        if failure is not None:
            self.error = failure
            self.say(f"*** {failure}")
        elif c.error:
            self.error = c.error                    # fetchmail's words are in the transcript
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
                **self.tls_result(),
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
              "port": {"type": "integer", "minimum": 1, "maximum": 65535,
                       "description": "the server's port (143; 993 with tls)"},
              "tls": {**TLS_SCHEMA, "description": (
                  "over TLS: port 993 from the first byte (imaplib's IMAP4_SSL), else STARTTLS "
                  "required (starttls()); true or {version, verify}")}}
    REQUIRED = ["server", "user", "password"]
    EXAMPLE = {"node": "phone", "at": "6s", "run": "imap-client", "server": "mail163",
               "user": "bob", "password": "secret", "actions": ["list", "headers", "open 1"]}

    def __init__(self, node, *, server: str, user: str, password: str,
                 actions: list[str] | None = None, port: int | None = None, tls=None,
                 at: float = 0.0) -> None:
        super().__init__(node, at=at)
        self.server, self.user, self.password = server, user, password
        self.tls = tls_options(tls)
        self.actions = list(actions if actions is not None else ["list", "headers"])
        for action in self.actions:
            action_commands(action)                  # a bad action is an error now
        self.port = port if port is not None else (IMAPS if self.tls is not None else IMAP)
        self.client: ImapClient | None = None

    MARKS = ("C:", "S:")
    TLS_PORT = IMAPS

    def _engine(self) -> ImapClient:
        implicit = self.tls is not None and self.port == IMAPS
        return ImapClient(self.user, self.password, self.actions,
                          starttls=self.tls is not None and not implicit, tls=implicit)

    def _report(self, c: ImapClient, failure: str | None) -> None:
        if failure is not None or c.errors:
            self.error = failure or c.errors[0]
            self.say(f"*** {self.error}")
        opened = [n for n, m in c.messages.items() if "body" in m]
        self.say(f"=== {len(c.messages)} messages listed, {len(opened)} opened, "
                 f"{c.bytes_downloaded} bytes from the server")

    def result(self) -> dict:
        c = self.client
        if c is None:
            return {"server": self.server, "user": self.user}
        return {"server": self.server, "user": self.user, "actions": self.actions,
                **self.tls_result(),
                "folders": c.folders, "bytes_downloaded": c.bytes_downloaded,
                "messages": {str(n): {("body_sha256" if k == "body" else k):
                                      (body_sha256(v) if k == "body" else v) for k, v in m.items()}
                             for n, m in sorted(c.messages.items())},
                "errors": c.errors}
