"""SMTP servers (RFC 5321) with submission (RFC 6409), AUTH PLAIN (RFC 4954, RFC 4616),
SIZE (RFC 1870), 8BITMIME (RFC 6152) and PIPELINING (RFC 2920), sans-I/O.

:class:`SmtpServerSession` is one connection on a server, a
:class:`~netsim.proto.stream.LineServer`; a :class:`Policy` says which domains are
local, who exists, who may relay and what a password is. The client is
:class:`~netsim.proto.mail.smtp_client.SmtpClient`.

Reply codes the server gives (RFC 5321 §4.2.2, §4.2.3, §4.3.2), worded as Postfix
words them:

====  ==============================================================
220   greeting                      250  OK, and EHLO's extensions
354   start mail input              221  closing
421   too many errors: closing      450  mailbox busy (a POP3 lock)
451   local error (queue full)      452  too many recipients
500   bad syntax, line too long     501  bad arguments
502   command not recognized        503  bad sequence of commands
530   authentication required       535  authentication failed
550   user unknown                  552  message too big (SIZE)
554   relay denied, no valid recipients
====  ==============================================================
"""

from __future__ import annotations

import base64
import ipaddress
import re
from dataclasses import dataclass, field

from netsim.proto.stream import Close, LineServer, Send

_PATH = re.compile(r"^<([^<>\s]*)>(?:\s+(.*))?$")
MAX_RECIPIENTS = 100


@dataclass
class Policy:
    """What a mail server knows when it answers (pure data and predicates)."""
    hostname: str                        # mail.163.com
    domains: set[str]                    # the domains it delivers locally
    users: set[str]
    relay_from: list = field(default_factory=list)   # ipaddress networks (mynetworks)
    passwords: dict[str, str] = field(default_factory=dict)
    max_size: int = 10 * 1024 * 1024
    #: Mailboxes locked right now (a POP3 session holds them): anything that answers
    #: ``in``, such as the store's lock table itself.
    busy: object = field(default_factory=set)
    queue_full: bool = False

    def may_relay(self, peer, authenticated: bool) -> bool:
        return authenticated or any(peer in network for network in self.relay_from)


@dataclass(frozen=True, slots=True)
class Accepted:
    """A message the server took responsibility for (RFC 5321 §4.1.1.4: after 250 to DATA)."""
    mail_from: str
    recipients: tuple[str, ...]
    data: bytes                          # dot-unstuffed, CRLF lines
    helo: str
    authenticated: str | None


def reply(code: int, *lines: str) -> Send:
    """A reply, multi-line when there are several lines (RFC 5321 §4.2.1)."""
    text = "".join(f"{code}{'-' if i < len(lines) - 1 else ' '}{line}\r\n"
                   for i, line in enumerate(lines))
    return Send(text.encode())


class SmtpServerSession(LineServer):
    """One SMTP connection on a server. After ``MAX_ERRORS`` error replies the session
    ends with ``421 4.7.0 <host> Error: too many errors`` (Postfix's
    ``smtpd_hard_error_limit``, 20)."""

    MAX_ERRORS = 20

    def __init__(self, policy: Policy, peer, *, submission: bool = False) -> None:
        super().__init__()
        self.policy = policy
        self.peer = ipaddress.ip_address(peer)
        self.submission = submission     # port 587: AUTH before MAIL (RFC 6409 §4.3)
        self.helo: str | None = None
        self.user: str | None = None
        self._reset()
        self._in_data = False
        self._data: list[bytes] = []
        self._data_size = 0
        self._data_overlong = False
        self.accepted: list[Accepted] = []

    def start(self, now: float) -> None:
        self._out.append(reply(220, f"{self.policy.hostname} ESMTP netsim"))

    def _reset(self) -> None:
        self.mail_from: str | None = None
        self.recipients: list[str] = []

    # -- input ------------------------------------------------------------------------------

    def line(self, line: bytes) -> None:
        if self._in_data:
            self._data_line(line)
        else:
            self.dispatch(line.decode("ascii", "replace"))

    def dispatch(self, line: str) -> None:
        if not line.strip():
            self._error(500, "5.5.2 Error: bad syntax")
            return
        super().dispatch(line)

    def command(self, verb: str, arg: str, handler) -> None:
        handler(arg.strip())

    def unknown(self, verb: str, arg: str) -> None:
        self._error(502, "5.5.2 Error: command not recognized")

    def too_long(self) -> None:
        if self._in_data:
            self._data_overlong = True   # the message is refused at its end (see _data_line)
        else:
            self._error(500, "5.5.2 Error: line too long")

    def too_many_errors(self) -> None:
        self._ok(421, f"4.7.0 {self.policy.hostname} Error: too many errors")

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
        self._out.append(reply(250, self.policy.hostname, *extensions))

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
            if key.upper() != "SIZE":
                continue
            if not (value.isascii() and value.isdigit()):
                self._error(501, "5.5.4 Bad message size syntax")
                return
            if len(value) > 20 or int(value) > self.policy.max_size:
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
            self._data, self._data_size, self._data_overlong = [], 0, False
            self._ok(354, "End data with <CR><LF>.<CR><LF>")

    def _data_line(self, line: bytes) -> None:
        if line != b".":
            # Past the size limit the text is read and dropped, as Postfix does, and
            # refused at the end: a client cannot grow the server's memory.
            self._data_size += len(line) + 2
            if self._data_size <= self.policy.max_size:
                self._data.append(line[1:] if line.startswith(b".") else line)  # §4.5.2
            return
        self._in_data = False
        data = b"".join(part + b"\r\n" for part in self._data)
        self._data = []
        if self._data_size > self.policy.max_size:
            self._ok(552, "5.3.4 Message size exceeds fixed limit")
        elif self._data_overlong:
            self._ok(500, "5.5.2 Error: message line too long")       # RFC 5321 §4.5.3.1.6
        elif self.policy.queue_full:
            self._ok(451, "4.3.0 Error: queue file write error")
        else:
            message = Accepted(self.mail_from, tuple(self.recipients), data,
                               self.helo or "", self.user)
            self.accepted.append(message)
            # The reply first, then the message: the server says 250 and only then does
            # its queue manager start on the message (a DNS lookup, a local delivery).
            self._ok(250, "2.0.0 Ok: queued")
            self._out.append(message)
        self._reset()

    def _cmd_rset(self, arg: str) -> None:
        self._reset()
        self._ok(250, "2.0.0 Ok")

    def _cmd_noop(self, arg: str) -> None:
        self._ok(250, "2.0.0 Ok")

    def _cmd_vrfy(self, arg: str) -> None:
        self._ok(252, "2.0.0 Cannot VRFY user, but will accept message")   # §3.5.3

    def _cmd_quit(self, arg: str) -> None:
        self._ok(221, "2.0.0 Bye")
        self.closed = True
        self._out.append(Close())

    # -- replies ---------------------------------------------------------------------------

    def _ok(self, code: int, text: str) -> None:
        self._out.append(reply(code, text))

    def _error(self, code: int, text: str) -> None:
        """An error reply; after the twentieth, Postfix says 421 and hangs up."""
        self._ok(code, text)
        self.count_error()
