"""An SMTP client (RFC 5321 §3.3) that sends one message to one server, sans-I/O: what
``swaks`` does for ``mail-send``, and what a mail server's queue does to relay.

It reads replies as swaks does: lines are gathered until one that starts with three
ASCII digits and a space (or ends there) — a line that is no reply (``²²² hello``,
binary junk) is kept as part of the reply's text and never taken for a code — and
a reply is judged against the one the command expects (``220`` to the greeting, ``354``
to DATA). It waits ``timeout`` seconds for each reply (swaks's ``--timeout``, 30 s;
Postfix's ``smtp_*_timeout`` is 300 s); when that passes it reports
``Timeout (30 secs) waiting for server response`` and says QUIT, as swaks does. What
it keeps of a reply is bounded (a server may send endless continuation lines, or
lines of any length): the first :data:`MAX_REPLY_LINES` lines, each cut at
:data:`MAX_TEXT` characters, as Postfix keeps only the start of a long reply.

When the session is over the client outputs its :class:`Done` (then ``Close``).

The transcript marks each line as swaks prints it: ``C`` sent, ``S`` a reply that was
the one expected, ``E`` one that was not (swaks's ``<**``), ``!`` a note of its own
(``Remote host closed connection unexpectedly.``), ``=`` information (swaks's ``===``);
inside TLS the marks are ``c``, ``s`` and ``e`` (swaks's `` ~>``, ``<~ ``, ``<~*``).

TLS (RFC 3207, RFC 8314): ``tls=True`` is inside TLS from the first byte (``swaks
--tls-on-connect``, SMTPS on 465; the driver's layer does the handshake before the
greeting). ``starttls="require"`` is ``swaks --tls``: STARTTLS after EHLO, or ``Host did
not advertise STARTTLS`` and QUIT; a refusal is ``STARTTLS attempted but failed``.
``starttls="may"`` is Postfix's ``smtp_tls_security_level = may``: STARTTLS when
offered, the clear otherwise (or when the server refuses it). After the handshake the
client forgets the server's extensions and says EHLO again (§4.2), and prints swaks's
``=== TLS started with cipher TLSv1.3:TLS_AES_256_GCM_SHA384:256``. A handshake that
fails (``tls_failed``) is swaks's ``*** TLS startup failed (connect(): error:0A000086:SSL
routines::certificate verify failed)`` — then nothing more is sent, as swaks exits.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

from netsim.proto.mail.lines import dot_stuff, shown
from netsim.proto.mail.tls_session import TlsStarted, cipher_bits, openssl_error
from netsim.proto.stream import Close, Failed, LineBuffer, Send, StartTls, StreamEngine

#: Lines longer than this are dropped (swaks reads any length; memory must be bounded).
MAX_LINE = 1 << 20
MAX_REPLY_LINES = 100
MAX_TEXT = 512
LOST = "Remote host closed connection unexpectedly."

#: What each step waits for (swaks's ``expect``).
_EXPECT = {"greeting": 220, "ehlo": 250, "starttls": 220, "tls": 0, "auth": 235, "mail": 250,
           "rcpt": 250, "data": 354, "body": 250, "quit": 221}
#: The command a reply in each step answers, as Postfix's smtp(8) names it in a bounce
#: ("… said: 550 5.1.1 … (in reply to RCPT TO command)"); the greeting answers none.
_COMMAND = {"greeting": "", "ehlo": "EHLO", "starttls": "STARTTLS", "tls": "STARTTLS",
            "auth": "AUTH", "mail": "MAIL FROM", "rcpt": "RCPT TO",
            "data": "DATA", "body": "end of DATA", "quit": "QUIT"}


@dataclass(frozen=True, slots=True)
class Reply:
    code: int                      # 0: no reply came (a timeout, the connection lost)
    lines: tuple[str, ...]
    command: str = ""              # what it answered ("RCPT TO"); "" for the greeting

    @property
    def text(self) -> str:
        return " ".join(self.lines)

    @property
    def transient(self) -> bool:
        return 400 <= self.code < 500

    def __str__(self) -> str:
        return f"{self.code} {self.text}" if self.code else self.text


@dataclass(frozen=True, slots=True)
class Done:
    """The client's session is over. ``delivered``: recipients the server took;
    ``failed``: recipient → the reply that refused it; ``error`` when the whole
    transaction failed (with the reply, or a code-0 one for a timeout or a lost
    connection)."""
    delivered: tuple[str, ...]
    failed: dict
    error: Reply | None = None


def _reply_line(text: str) -> bool:
    """``250 ok``, ``250-more``, ``354``: three ASCII digits, then a space, a dash or
    the end (RFC 5321 §4.2). ``²²² x`` is not one: ``str.isdigit`` is true for it."""
    return (len(text) >= 3 and text[:3].isascii() and text[:3].isdigit()
            and (len(text) == 3 or text[3] in " -"))


class SmtpClient(StreamEngine):
    """Sends one message in lock-step — one command, one reply — so a diagram shows each
    exchange; the server's PIPELINING is noted but not used."""

    def __init__(self, *, helo: str, mail_from: str, recipients: list[str], data: bytes,
                 auth: tuple[str, str] | None = None, timeout: float = 30.0,
                 starttls: str | None = None, tls: bool = False) -> None:
        super().__init__()
        if starttls not in (None, "may", "require"):
            raise ValueError(f"starttls is None, 'may' or 'require', not {starttls!r}")
        self.starttls = None if tls else starttls
        self.implicit_tls = tls
        self.secure = tls                    # inside TLS now
        self.tls_info = None
        #: The TLS layer's refusal (a TlsError), if the handshake failed.
        self.tls_error = None
        #: What the glue may give: a zero-argument callable → (TlsInfo, the server
        #: certificate's subject as swaks prints it, "/CN=mail.163.com", or None).
        self.describe_tls = None
        self.helo, self.mail_from = helo, mail_from
        self.recipients = list(recipients)
        self.data = data
        self.auth = auth
        self.timeout = timeout
        self._lines = LineBuffer(MAX_LINE)
        self._reply_lines: list[str] = []
        self._shown: list[str] = []          # this reply's lines as the transcript shows them
        self._step = "greeting"
        self._rcpt_index = 0
        self._deadline: float | None = None
        self.extensions: dict[str, str] = {}
        self.delivered: list[str] = []
        self.failed: dict[str, Reply] = {}
        #: (mark, line): what ``swaks`` prints (see the module's docstring).
        self.transcript: list[tuple[str, str]] = []
        self.done: Done | None = None
        self._pending_error: Reply | None = None
        #: The server's answer to the message itself (250 … queued as …).
        self.final_reply: Reply | None = None
        #: The server closed the connection before the session was over.
        self.lost = False
        self.now = 0.0

    # -- the contract ----------------------------------------------------------------------

    def start(self, now: float) -> None:
        self.now = now
        self._deadline = now + self.timeout            # for the greeting
        if self.implicit_tls and self.describe_tls is not None:
            info, subject = self.describe_tls()
            self._tls_started(info, subject)

    # -- TLS ---------------------------------------------------------------------------------

    def tls_ready(self, now: float, info) -> None:
        """The handshake after STARTTLS is done: swaks's lines, then EHLO again."""
        self.now = now
        subject = self.describe_tls()[1] if self.describe_tls is not None else None
        self._tls_started(info, subject)
        if self._step == "tls":
            self._step = "ehlo"
            self._send(f"EHLO {self.helo}")

    def _tls_started(self, info, subject: str | None) -> None:
        self.secure = True
        self.tls_info = info
        if info is not None:
            self.transcript.append(("=", f"TLS started with cipher {info.version}:"
                                         f"{info.cipher}:{cipher_bits(info.cipher)}"))
        self.transcript.append(("=", "TLS no local certificate set"))
        if subject is not None:
            self.transcript.append(("=", f'TLS peer DN="{subject}"'))
        self._out.append(TlsStarted(info))

    def tls_failed(self, error, now: float) -> None:
        """The handshake failed (a certificate refused, an alert): swaks's words, and the
        end — swaks exits there, sending nothing more."""
        if self.done is not None:
            return
        self.now = now
        self.tls_error = error
        message = f"TLS startup failed (connect(): {openssl_error(error)})"
        self.transcript.append(("!", message))
        if not self.implicit_tls:
            self.transcript.append(("!", "STARTTLS attempted but failed"))
        failure = Reply(0, (message,), "STARTTLS")
        self.failed.update({a: failure for a in self.recipients if a not in self.failed})
        self.delivered = []
        self._pending_error = failure
        self._finish()
        self._out.append(Failed(message))

    def receive(self, data: bytes, now: float) -> None:
        self.now = now
        for line in self._lines.feed(data):
            if self.done is not None:
                return                       # after QUIT's reply: swaks reads no more
            self._line(line.decode("utf-8", "replace"))
        if self._lines.overlong and self.done is None:
            self._lines.overlong = False
            self._shown.append(f"<a line of more than {MAX_LINE} bytes>")

    def connection_lost(self, now: float) -> None:
        if self.done is not None:
            return
        self.lost = True
        self._flush_shown("E")
        self.transcript.append(("!", LOST))
        if self._step != "quit":
            lost = Reply(0, (LOST,))
            self.failed.update({a: lost for a in self.recipients if a not in self.failed})
            self.delivered = []
            self._pending_error = lost
        self._finish()

    def get_timer(self) -> float | None:
        return None if self.done is not None else self._deadline

    def handle_timer(self, now: float) -> None:
        if self.done is not None or self._deadline is None or now < self._deadline:
            return
        self.now = now
        self._deadline = None
        self._flush_shown("E")
        message = f"Timeout ({self.timeout:g} secs) waiting for server response"
        self.transcript.append(("E", message))
        if self._step in ("quit", "tls"):
            if self._step == "tls":          # no handshake came: swaks's TLS startup failed
                self._pending_error = Reply(0, (message,), "STARTTLS")
            self._finish()                   # swaks gives up: its exit closes the socket
            self._out.append(Close())
        else:
            self._on_reply(Reply(0, (message,)))

    # -- replies ---------------------------------------------------------------------------

    def _line(self, text: str) -> None:
        self._shown.append(shown(text))
        if len(self._reply_lines) < MAX_REPLY_LINES:
            body = text[4:] if _reply_line(text) else text
            self._reply_lines.append(body[:MAX_TEXT])
        if not _reply_line(text) or text[3:4] == "-":
            return                           # more lines of one reply
        reply = Reply(int(text[:3]), tuple(self._reply_lines), _COMMAND[self._step])
        self._reply_lines = []
        self._flush_shown("S" if self._expected(reply) else "E")
        self._deadline = None
        self._on_reply(reply)

    def _expected(self, reply: Reply) -> bool:
        expect = _EXPECT[self._step]
        return reply.code == expect or (self._step == "rcpt" and reply.code == 251)

    def _flush_shown(self, mark: str) -> None:
        mark = mark.lower() if self.secure else mark
        self.transcript += [(mark, line) for line in self._shown]
        self._shown = []

    def _send(self, command: str) -> None:
        shown_as = command if not command.startswith("AUTH PLAIN ") else "AUTH PLAIN ********"
        self.transcript.append(("c" if self.secure else "C", shown_as))
        self._out.append(Send(command.encode() + b"\r\n"))
        self._deadline = self.now + self.timeout

    def _on_reply(self, reply: Reply) -> None:
        step = self._step
        if step == "greeting":
            if reply.code != 220:
                return self._quit_after(reply)
            self._step = "ehlo"
            self._send(f"EHLO {self.helo}")
        elif step == "ehlo":
            if reply.code != 250:
                return self._quit_after(reply)
            self.extensions = {}             # RFC 3207 §4.2: nothing from before TLS is kept
            for line in reply.lines[1:]:
                key, _, value = line.partition(" ")
                self.extensions[key.upper()] = value
            if self.starttls is not None and not self.secure:
                if "STARTTLS" in self.extensions:
                    self._step = "starttls"
                    self._send("STARTTLS")
                    return
                if self.starttls == "require":
                    self.transcript.append(("!", "Host did not advertise STARTTLS"))
                    return self._quit_after(Reply(0, ("Host did not advertise STARTTLS",)))
            self._after_ehlo()
        elif step == "starttls":
            if reply.code == 220:
                self._step = "tls"
                self._out.append(StartTls())
            elif self.starttls == "may" and reply.code:
                self._after_ehlo()           # opportunistic: on in the clear
            else:
                self.transcript.append(("!", "STARTTLS attempted but failed"))
                self._pending_error = reply if reply.code else Reply(0, reply.lines, "STARTTLS")
                self.failed.update({a: self._pending_error for a in self.recipients})
                self._finish()               # swaks exits here (29), no QUIT
                self._out.append(Close())
        elif step == "tls":
            pass                             # a reply inside the handshake's time: none expected
        elif step == "auth":
            if reply.code != 235:
                return self._quit_after(reply)
            self._mail()
        elif step == "mail":
            if reply.code != 250:
                return self._quit_after(reply)
            self._rcpt()
        elif step == "rcpt":
            address = self.recipients[self._rcpt_index]
            if reply.code == 250 or reply.code == 251:
                self.delivered.append(address)
            else:
                self.failed[address] = reply
            self._rcpt_index += 1
            if self._rcpt_index < len(self.recipients):
                self._rcpt()
            elif not self.delivered:
                self._quit_after(None)
            else:
                self._step = "data"
                self._send("DATA")
        elif step == "data":
            if reply.code != 354:
                return self._quit_after(reply)
            self._step = "body"
            stuffed = dot_stuff(self.data)
            mark = "c" if self.secure else "C"
            self.transcript.append((mark, f"<{len(self.data)} bytes of message>"))
            self.transcript.append((mark, "."))
            self._out.append(Send(stuffed))
            self._deadline = self.now + self.timeout
        elif step == "body":
            self.final_reply = reply
            if reply.code != 250:
                for address in self.delivered:
                    self.failed[address] = reply
                self.delivered = []
                return self._quit_after(reply)
            self._quit_after(None)
        elif step == "quit":
            self._finish()
            self._out.append(Close())

    def _after_ehlo(self) -> None:
        """EHLO answered (inside TLS if TLS was to be): AUTH if asked for, else MAIL."""
        if self.auth is None:
            return self._mail()
        if "AUTH" not in self.extensions:
            return self._quit_after(Reply(0, ("server offers no AUTH",)))
        user, password = self.auth
        token = base64.b64encode(f"\0{user}\0{password}".encode()).decode()
        self._step = "auth"
        self._send(f"AUTH PLAIN {token}")

    def _mail(self) -> None:
        self._step = "mail"
        size = f" SIZE={len(self.data)}" if "SIZE" in self.extensions else ""
        self._send(f"MAIL FROM:<{self.mail_from}>{size}")

    def _rcpt(self) -> None:
        self._step = "rcpt"
        self._send(f"RCPT TO:<{self.recipients[self._rcpt_index]}>")

    def _quit_after(self, error: Reply | None) -> None:
        if error is not None:
            for address in self.recipients:
                if address not in self.failed:
                    self.failed[address] = error
            self.delivered = []
        self._step = "quit"
        self._send("QUIT")
        self._pending_error = error

    def _finish(self) -> None:
        if self.done is None:
            self.done = Done(tuple(self.delivered), dict(self.failed), self._pending_error)
            self._deadline = None
            # For the application, before the Close: the tool is done now, whether or not
            # the peer ever finishes closing (a mail queue goes on to its next entry).
            self._out.append(self.done)
