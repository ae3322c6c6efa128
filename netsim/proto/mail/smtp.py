"""SMTP (RFC 5321) with submission (RFC 6409), AUTH PLAIN (RFC 4954, RFC 4616),
SIZE (RFC 1870), 8BITMIME (RFC 6152) and PIPELINING (RFC 2920), sans-I/O.

:class:`SmtpServerSession` is one connection on a server; a :class:`Policy` says
which domains are local, who exists, who may relay and what a password is.
:class:`SmtpClient` sends one message to one server. Both consume bytes with
``receive`` and return :class:`~netsim.proto.mail.lines.Send`/``Close`` outputs.

Reply codes the server gives (RFC 5321 §4.2.2, §4.2.3, §4.3.2):

====  ==============================================================
220   greeting                      250  OK, and EHLO's extensions
354   start mail input              221  closing
421   too many errors: closing      450  mailbox busy (a POP3 lock)
451   local error (queue full)      452  too many recipients
500   unknown command / too long    501  bad arguments
502   not implemented               503  bad sequence of commands
530   authentication required       535  authentication failed
550   user unknown                  552  message too big (SIZE)
554   relay denied, no valid recipients
====  ==============================================================
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field

from netsim.proto.mail.lines import dot_stuff
from netsim.proto.stream import Close, LineBuffer, Send

_PATH = re.compile(r"^<([^<>\s]*)>(?:\s+(.*))?$")
MAX_ERRORS = 10
MAX_RECIPIENTS = 100


@dataclass
class Policy:
    """What a mail server knows when it answers (pure data and predicates)."""
    hostname: str                        # mail.163.com
    domains: set[str]                    # the domains it delivers locally
    users: set[str]
    relay_from: list[tuple[int, int]] = field(default_factory=list)   # (network, mask)
    passwords: dict[str, str] = field(default_factory=dict)
    max_size: int = 10 * 1024 * 1024
    busy: set[str] = field(default_factory=set)      # mailboxes locked right now
    queue_full: bool = False

    def may_relay(self, peer: int, authenticated: bool) -> bool:
        return authenticated or any(peer & mask == net for net, mask in self.relay_from)


@dataclass(frozen=True, slots=True)
class Accepted:
    """A message the server took responsibility for (RFC 5321 §4.1.1.4: after 250 to DATA)."""
    mail_from: str
    recipients: tuple[str, ...]
    data: bytes                          # dot-unstuffed, CRLF lines
    helo: str
    authenticated: str | None


class SmtpServerSession:
    def __init__(self, policy: Policy, peer: int, *, submission: bool = False) -> None:
        self.policy = policy
        self.peer = peer
        self.submission = submission     # port 587: AUTH before MAIL (RFC 6409 §4.3)
        self._lines = LineBuffer()
        self._out: list = [self._reply(220, f"{policy.hostname} ESMTP netsim")]
        self.helo: str | None = None
        self.user: str | None = None
        self._reset()
        self._in_data = False
        self._data: list[bytes] = []
        self._errors = 0
        self._closed = False
        self.accepted: list[Accepted] = []

    def _reset(self) -> None:
        self.mail_from: str | None = None
        self.recipients: list[str] = []

    # -- input ------------------------------------------------------------------------------

    def receive(self, data: bytes) -> None:
        for line in self._lines.feed(data):
            if self._closed:
                return
            if self._in_data:
                self._data_line(line)
            else:
                self._command(line)
        if self._lines.overlong and not self._closed:
            self._lines.overlong = False
            self._error(500, "5.5.2 Line too long")

    def _command(self, line: bytes) -> None:
        text = line.decode("ascii", "replace")
        verb, _, arg = text.partition(" ")
        verb = verb.upper()
        handler = getattr(self, f"_cmd_{verb.lower()}", None) if verb.isalpha() else None
        if handler is None:
            self._error(500, "5.5.2 Error: command not recognized")
            return
        handler(arg.strip())

    # -- commands (RFC 5321 §4.1.1) --------------------------------------------------------

    def _cmd_ehlo(self, arg: str) -> None:
        if not arg:
            self._error(501, "5.5.4 Syntax: EHLO hostname")
            return
        self.helo = arg
        self._reset()
        extensions = [f"SIZE {self.policy.max_size}", "8BITMIME", "PIPELINING"]
        if self.submission or self.policy.passwords:
            extensions.append("AUTH PLAIN")
        self._out.append(self._reply(250, self.policy.hostname, *extensions))

    def _cmd_helo(self, arg: str) -> None:
        if not arg:
            self._error(501, "5.5.4 Syntax: HELO hostname")
            return
        self.helo = arg
        self._reset()
        self._ok(250, self.policy.hostname)

    def _cmd_auth(self, arg: str) -> None:
        mechanism, _, initial = arg.partition(" ")
        if self.helo is None:
            self._error(503, "5.5.1 Error: send EHLO first")
        elif self.user is not None:
            self._error(503, "5.5.1 Error: already authenticated")
        elif mechanism.upper() != "PLAIN":
            self._error(504, "5.5.4 Unrecognized authentication type")
        elif not initial:
            self._error(501, "5.5.2 Error: PLAIN needs an initial response")
        else:
            try:
                _authzid, user, password = base64.b64decode(initial, validate=True).split(b"\0")
                user_text, password_text = user.decode(), password.decode()
            except (ValueError, UnicodeDecodeError):
                self._error(501, "5.5.2 Error: malformed authentication response")
                return
            if self.policy.passwords.get(user_text) == password_text:
                self.user = user_text
                self._ok(235, "2.7.0 Authentication successful")
            else:
                self._error(535, "5.7.8 Error: authentication failed")

    def _cmd_mail(self, arg: str) -> None:
        if self.helo is None:
            self._error(503, "5.5.1 Error: send HELO/EHLO first")
            return
        if self.mail_from is not None:
            self._error(503, "5.5.1 Error: nested MAIL command")
            return
        if self.submission and self.user is None:
            self._error(530, "5.7.0 Authentication required")
            return
        match = _PATH.match(arg[5:].strip()) if arg.upper().startswith("FROM:") else None
        if match is None:
            self._error(501, "5.5.4 Syntax: MAIL FROM:<address>")
            return
        for param in (match.group(2) or "").split():
            key, _, value = param.partition("=")
            if key.upper() == "SIZE" and value.isdigit() and int(value) > self.policy.max_size:
                self._error(552, "5.3.4 Message size exceeds fixed limit")
                return
        self.mail_from = match.group(1)
        self._ok(250, "2.1.0 Ok")

    def _cmd_rcpt(self, arg: str) -> None:
        if self.mail_from is None:
            self._error(503, "5.5.1 Error: need MAIL command")
            return
        match = _PATH.match(arg[3:].strip()) if arg.upper().startswith("TO:") else None
        if match is None or "@" not in match.group(1):
            self._error(501, "5.1.3 Bad recipient address syntax")
            return
        address = match.group(1)
        local, _, domain = address.rpartition("@")
        policy = self.policy
        if len(self.recipients) >= MAX_RECIPIENTS:
            self._ok(452, "4.5.3 Error: too many recipients")
        elif domain.lower() in policy.domains:
            if local not in policy.users:
                self._ok(550, f"5.1.1 <{address}>: Recipient address rejected: User unknown "
                              "in local recipient table")
            elif local in policy.busy:
                self._ok(450, f"4.2.1 <{address}>: Recipient address rejected: mailbox busy, "
                              "try again later")
            else:
                self.recipients.append(address)
                self._ok(250, "2.1.5 Ok")
        elif policy.may_relay(self.peer, self.user is not None):
            self.recipients.append(address)
            self._ok(250, "2.1.5 Ok")
        else:
            self._ok(554, f"5.7.1 <{address}>: Relay access denied")

    def _cmd_data(self, arg: str) -> None:
        if self.mail_from is None:
            self._error(503, "5.5.1 Error: need MAIL command")
        elif not self.recipients:
            self._ok(554, "5.5.1 Error: no valid recipients")
        else:
            self._in_data = True
            self._data = []
            self._ok(354, "End data with <CR><LF>.<CR><LF>")

    def _data_line(self, line: bytes) -> None:
        if line == b".":
            self._in_data = False
            data = b"".join(part + b"\r\n" for part in self._data)
            self._data = []
            if len(data) > self.policy.max_size:
                self._ok(552, "5.3.4 Message size exceeds fixed limit")
            elif self.policy.queue_full:
                self._ok(451, "4.3.0 Error: queue file write error")
            else:
                message = Accepted(self.mail_from, tuple(self.recipients), data,
                                   self.helo or "", self.user)
                self.accepted.append(message)
                self._out.append(message)
                self._ok(250, "2.0.0 Ok: queued")
            self._reset()
            return
        self._data.append(line[1:] if line.startswith(b".") else line)   # §4.5.2 unstuffing

    def _cmd_rset(self, arg: str) -> None:
        self._reset()
        self._ok(250, "2.0.0 Ok")

    def _cmd_noop(self, arg: str) -> None:
        self._ok(250, "2.0.0 Ok")

    def _cmd_vrfy(self, arg: str) -> None:
        self._ok(252, "2.0.0 Cannot VRFY user, but will accept message")   # §3.5.3

    def _cmd_quit(self, arg: str) -> None:
        self._ok(221, "2.0.0 Bye")
        self._closed = True
        self._out.append(Close())

    # -- replies ---------------------------------------------------------------------------

    @staticmethod
    def _reply(code: int, *lines: str) -> Send:
        """A reply, multi-line when there are several lines (RFC 5321 §4.2.1)."""
        text = "".join(f"{code}{'-' if i < len(lines) - 1 else ' '}{line}\r\n"
                       for i, line in enumerate(lines))
        return Send(text.encode())

    def _ok(self, code: int, text: str) -> None:
        self._out.append(self._reply(code, text))

    def _error(self, code: int, text: str) -> None:
        self._errors += 1
        if self._errors >= MAX_ERRORS:
            self._out.append(self._reply(421, f"4.7.0 {self.policy.hostname} Error: too many "
                                              "errors"))
            self._closed = True
            self._out.append(Close("too many errors"))
            return
        self._ok(code, text)

    def outputs(self) -> list:
        out, self._out = self._out, []
        return out

    @property
    def closed(self) -> bool:
        return self._closed


# -- the client ------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Reply:
    code: int
    lines: tuple[str, ...]

    @property
    def text(self) -> str:
        return " ".join(self.lines)

    @property
    def transient(self) -> bool:
        return 400 <= self.code < 500


@dataclass(frozen=True, slots=True)
class Done:
    """The client's session is over. ``delivered``: recipients the server took;
    ``failed``: recipient → the reply that refused it; ``error`` when the whole
    transaction failed (with the reply)."""
    delivered: tuple[str, ...]
    failed: dict
    error: Reply | None = None


class SmtpClient:
    """Sends one message (RFC 5321 §3.3) in lock-step — one command, one reply — so a
    diagram shows each exchange; the server's PIPELINING is noted but not used."""

    def __init__(self, *, helo: str, mail_from: str, recipients: list[str], data: bytes,
                 auth: tuple[str, str] | None = None) -> None:
        self.helo, self.mail_from = helo, mail_from
        self.recipients = list(recipients)
        self.data = data
        self.auth = auth
        self._lines = LineBuffer()
        self._reply_lines: list[str] = []
        self._out: list = []
        self._step = "greeting"
        self._rcpt_index = 0
        self.extensions: dict[str, str] = {}
        self.delivered: list[str] = []
        self.failed: dict[str, Reply] = {}
        #: (direction, line): "C" sent, "S" received — what ``swaks`` prints.
        self.transcript: list[tuple[str, str]] = []
        self.done: Done | None = None
        self._pending_error: Reply | None = None
        #: The server's answer to the message itself (250 … queued as …).
        self.final_reply: Reply | None = None

    def receive(self, data: bytes) -> None:
        for line in self._lines.feed(data):
            text = line.decode("utf-8", "replace")
            self.transcript.append(("S", text))
            if len(text) < 3 or not text[:3].isdigit():
                self._finish(Reply(0, (text,)))
                return
            self._reply_lines.append(text[4:])
            if len(text) > 3 and text[3] == "-":
                continue                                  # more lines of one reply
            reply = Reply(int(text[:3]), tuple(self._reply_lines))
            self._reply_lines = []
            self._on_reply(reply)

    def connection_lost(self) -> None:
        if self.done is None and self._step == "quit":
            self._finish(None)                 # the server closed first: fine after QUIT
        elif self.done is None:
            lost = Reply(421, ("connection closed by the server",))
            self.failed.update({a: lost for a in self.recipients if a not in self.failed})
            self.delivered = []
            self._finish(lost)

    def _send(self, command: str) -> None:
        shown = command if not command.startswith("AUTH PLAIN ") else "AUTH PLAIN ********"
        self.transcript.append(("C", shown))
        self._out.append(Send(command.encode() + b"\r\n"))

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
            for line in reply.lines[1:]:
                key, _, value = line.partition(" ")
                self.extensions[key.upper()] = value
            if self.auth is not None:
                if "AUTH" not in self.extensions:
                    return self._quit_after(Reply(0, ("server offers no AUTH",)))
                user, password = self.auth
                token = base64.b64encode(f"\0{user}\0{password}".encode()).decode()
                self._step = "auth"
                self._send(f"AUTH PLAIN {token}")
            else:
                self._mail()
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
            self.transcript.append(("C", f"<{len(self.data)} bytes of message>"))
            self.transcript.append(("C", "."))
            self._out.append(Send(stuffed))
        elif step == "body":
            self.final_reply = reply
            if reply.code != 250:
                for address in self.delivered:
                    self.failed[address] = reply
                self.delivered = []
                return self._quit_after(reply)
            self._quit_after(None)
        elif step == "quit":
            self._finish(None)
            self._out.append(Close())

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

    def _finish(self, error: Reply | None) -> None:
        error = error or self._pending_error
        if self.done is None:
            self.done = Done(tuple(self.delivered), dict(self.failed), error)

    def outputs(self) -> list:
        out, self._out = self._out, []
        return out
