"""SMTP servers (RFC 5321) with submission (RFC 6409), AUTH PLAIN (RFC 4954, RFC 4616),
SIZE (RFC 1870), 8BITMIME (RFC 6152), PIPELINING (RFC 2920) and ENHANCEDSTATUSCODES
(RFC 2034, RFC 3463), sans-I/O.

:class:`SmtpServerSession` is one connection on a server, a
:class:`~netsim.proto.stream.LineServer`; a :class:`Policy` says which domains are
local, who exists, who may relay and what a password is. The client is
:class:`~netsim.proto.mail.smtp_client.SmtpClient`.

Reply codes the server gives (RFC 5321 §4.2.2, §4.2.3, §4.3.2), worded as Postfix 3.9
words them, each 2xx, 4xx and 5xx with its enhanced status code (``250 2.1.5 Ok``) but
the greeting and the replies to HELO and EHLO, as RFC 2034 §3 exempts them:

====  ==============================================================
220   greeting                      250  OK, and EHLO's extensions
354   start mail input              221  closing
421   too many errors: closing      450  mailbox busy (a POP3 lock)
451   local error (queue full)      452  too many recipients
500   bad syntax, line too long     501  bad arguments
502   command not recognized        503  bad sequence of commands
530   authentication required       535  authentication failed
550   user unknown                  552  message too big (SIZE)
554   relay denied, no valid recipients, too many hops
====  ==============================================================

DATA is read as Postfix ≥ 3.9 reads it with its default ``smtpd_forbid_bare_newline =
normalize`` (Postfix's answer to SMTP smuggling): only ``CRLF . CRLF`` ends the message
(RFC 5321 §4.1.1.4) — a ``.`` line next to a bare LF is dropped, not taken for the end,
so ``LF . LF`` inside a message cannot end it early and let the rest of the same write
be a second message from another sender (§2.3.8); a line that ends in a bare LF is
otherwise kept as if it ended in CRLF, and a stray CR inside a line becomes a space
(``cleanup_replace_stray_cr_lf``), so no server after this one is smuggled to either.
(Postfix's ``smtpd_forbid_bare_newline_exclusions = $mynetworks`` is not modelled: every
client is held to it.) Nothing is answered until the end of the message: a line past
the limit, text past ``SIZE`` (which is read on and dropped, not stored) or a message
that has passed ``hop_limit`` servers (its ``Received:`` lines and ours; Postfix's
``hopcount_limit``, RFC 5321 §6.3) is refused after the dot, and a message taken is
``250 2.0.0 Ok: queued as <id>``.

TLS (RFC 3207, RFC 8314), as a Postfix configured for it answers: ``starttls=True``
offers ``STARTTLS`` in EHLO (``smtpd_tls_security_level = may``) and ``tls=True`` is a
session inside TLS from its first byte (SMTPS on 465). ``auth_needs_tls`` is Postfix's
``smtpd_tls_auth_only = yes``: no AUTH advertised or taken before TLS (``503 5.5.1
Error: authentication not enabled``), so a password never crosses in the clear;
``tls_required`` is submission's ``smtpd_tls_security_level = encrypt`` (the master.cf
submission entry): every command but EHLO, HELO, STARTTLS, NOOP, RSET and QUIT is
``530 5.7.0 Must issue a STARTTLS command first``. After ``220 2.0.0 Ready to start
TLS`` the session drops what the client sent after the command and forgets its EHLO
and any AUTH (:mod:`~netsim.proto.mail.tls_session`); a message taken inside TLS is
marked so, for its ``Received: … with ESMTPS`` line (RFC 3848).
"""

from __future__ import annotations

import base64
import ipaddress
import re
from dataclasses import dataclass, field

from netsim.proto.mail.headers import hop_count
from netsim.proto.mail.lines import TOO_LONG, SmtpLines
from netsim.proto.mail.queue_ids import QueueIds
from netsim.proto.mail.tls_session import TlsServerSession
from netsim.proto.stream import Close, LineServer, Send

_PATH = re.compile(r"^<([^<>\s]*)>(?:\s+(.*))?$")
MAX_RECIPIENTS = 100
#: Postfix's hopcount_limit (RFC 5321 §6.3 asks for at least 100; Postfix counts 50).
HOP_LIMIT = 50
#: What Postfix takes before TLS when TLS is required (smtpd.c's SMTPD_CMD_FLAG_PRE_TLS).
_PRE_TLS = {"EHLO", "HELO", "STARTTLS", "NOOP", "RSET", "QUIT"}


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
    hop_limit: int = HOP_LIMIT
    #: Where queue ids come from: the server's queue, so that the id in ``queued as``
    #: is the one its log uses (one of the session's own when None).
    queue_ids: QueueIds | None = None

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
    queue_id: str = ""                   # the id ``250 2.0.0 Ok: queued as`` gave it
    tls: bool = False                    # it came inside TLS (RFC 3848: ESMTPS)


def reply(code: int, *lines: str) -> Send:
    """A reply, multi-line when there are several lines (RFC 5321 §4.2.1)."""
    text = "".join(f"{code}{'-' if i < len(lines) - 1 else ' '}{line}\r\n"
                   for i, line in enumerate(lines))
    return Send(text.encode())


class SmtpServerSession(TlsServerSession, LineServer):
    """One SMTP connection on a server. After ``MAX_ERRORS`` error replies the session
    ends with ``421 4.7.0 <host> Error: too many errors`` (Postfix's
    ``smtpd_hard_error_limit``, 20). TLS as the module says."""

    MAX_ERRORS = 20

    def __init__(self, policy: Policy, peer, *, submission: bool = False,
                 starttls: bool = False, tls: bool = False, auth_needs_tls: bool = False,
                 tls_required: bool = False) -> None:
        super().__init__()
        self.policy = policy
        self.peer = ipaddress.ip_address(peer)
        self.submission = submission     # port 587: AUTH before MAIL (RFC 6409 §4.3)
        self._init_tls(starttls=starttls, tls=tls)
        self.auth_needs_tls = auth_needs_tls
        self.tls_required = tls_required
        self._lines = SmtpLines(self.LINE_LIMIT)
        self._queue_ids = policy.queue_ids or QueueIds(policy.hostname)
        self.helo: str | None = None
        self.user: str | None = None
        self._reset()
        self._in_data = False
        self._data: list[bytes] = []
        self._data_size = 0
        self._data_overlong = False
        self._data_bare_lf = False       # the last data line ended in a bare LF
        self.accepted: list[Accepted] = []

    def start(self, now: float) -> None:
        self.start_secure()
        self._out.append(reply(220, f"{self.policy.hostname} ESMTP netsim"))

    # -- TLS (RFC 3207) ---------------------------------------------------------------------

    def _new_reader(self) -> SmtpLines:
        return SmtpLines(self.LINE_LIMIT)

    def _forget_for_tls(self) -> None:
        """RFC 3207 §4.2: the client's EHLO and AUTH are forgotten; it says EHLO again."""
        self.helo = None
        self.user = None
        self._reset()

    @property
    def _auth_offered(self) -> bool:
        return (self.submission or bool(self.policy.passwords)) and \
            (self.secure or not self.auth_needs_tls)

    def _reset(self) -> None:
        self.mail_from: str | None = None
        self.recipients: list[str] = []

    # -- input ------------------------------------------------------------------------------

    def receive(self, data: bytes, now: float) -> None:
        """Each line in order, a line too long answered (or, in DATA, noted) where it
        stood; a command that ends in a bare LF is read as if it ended in CRLF
        (Postfix's ``normalize``)."""
        self.now = now
        items = self._lines.feed(data)
        for n, item in enumerate(items):
            if self.closed:
                return
            if self._upgrading:
                # After "220 Ready to start TLS": the rest is dropped unread (RFC 3207 §6).
                self._drop_pending(len(items) - n)
                return
            if item is TOO_LONG:
                self.too_long()
            elif self._in_data:
                self._data_line(*item)
            else:
                self.dispatch(item[0].decode("ascii", "replace"))
        if self._upgrading:
            self._drop_pending()

    def dispatch(self, line: str) -> None:
        if not line.strip():
            self._error(500, "5.5.2 Error: bad syntax")
            return
        super().dispatch(line)

    def command(self, verb: str, arg: str, handler) -> None:
        if self.tls_required and not self.secure and verb not in _PRE_TLS:
            self._error(530, "5.7.0 Must issue a STARTTLS command first")
            return
        handler(arg.strip())

    def unknown(self, verb: str, arg: str) -> None:
        self._error(502, "5.5.2 Error: command not recognized")

    def too_long(self) -> None:
        if self._in_data:
            # No reply in the middle of a message (it would answer a command the client
            # has not sent): the message is refused after its dot (RFC 5321 §4.5.3.1.6).
            self._data_overlong = True
            self._data_bare_lf = False
        else:
            self._error(500, f"5.5.2 {self.policy.hostname} Error: command too long")

    def too_many_errors(self) -> None:
        self._ok(421, f"4.7.0 {self.policy.hostname} Error: too many errors")

    # -- commands (RFC 5321 §4.1.1) --------------------------------------------------------

    def _cmd_ehlo(self, arg: str) -> None:
        if not arg:
            self._error(501, "Syntax: EHLO hostname")        # RFC 2034 §3: no status code
            return
        self.helo = arg
        self._reset()
        # What it has, in the order Postfix lists it.
        extensions = ["PIPELINING", f"SIZE {self.policy.max_size}", "VRFY"]
        if self.starttls_offered and not self.secure:
            extensions.append("STARTTLS")
        if self._auth_offered:
            extensions.append("AUTH PLAIN")
        extensions += ["ENHANCEDSTATUSCODES", "8BITMIME"]
        self._out.append(reply(250, self.policy.hostname, *extensions))

    def _cmd_helo(self, arg: str) -> None:
        if not arg:
            self._error(501, "Syntax: HELO hostname")
            return
        self.helo = arg
        self._reset()
        self._ok(250, self.policy.hostname)

    def _cmd_auth(self, arg: str) -> None:
        mechanism, _, initial = arg.partition(" ")
        if not self._auth_offered and (self.submission or self.policy.passwords):
            self._error(503, "5.5.1 Error: authentication not enabled")  # smtpd_tls_auth_only
        elif self.helo is None:
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

    def _cmd_starttls(self, arg: str) -> None:
        """RFC 3207 §4, worded as Postfix's smtpd.c starttls_cmd words it."""
        if arg:
            self._error(501, "5.5.4 Syntax: STARTTLS")
        elif self.secure:
            self._error(554, "5.5.1 Error: TLS already active")
        elif not self.starttls_offered:
            self._error(502, "5.5.1 Error: command not implemented")
        else:
            self._ok(220, "2.0.0 Ready to start TLS")
            self._begin_tls()

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
            self._data_bare_lf = False
            self._ok(354, "End data with <CR><LF>.<CR><LF>")

    def _data_line(self, line: bytes, crlf: bool) -> None:
        bare_lf, self._data_bare_lf = self._data_bare_lf or not crlf, not crlf
        if line == b".":
            if bare_lf:
                return          # LF . LF, CRLF . LF, LF . CRLF: dropped, never the end
            return self._end_of_data()
        # Past the size limit the text is read and dropped, as Postfix does, and refused
        # at the end (RFC 1870 §6.3): a client cannot grow the server's memory.
        self._data_size += len(line) + 2
        if self._data_size <= self.policy.max_size:
            if line.startswith(b"."):
                line = line[1:]                                         # §4.5.2
            self._data.append(line.replace(b"\r", b" "))                # a stray CR

    def _end_of_data(self) -> None:
        self._in_data = False
        data = b"".join(part + b"\r\n" for part in self._data)
        self._data = []
        if self._data_size > self.policy.max_size:
            self._ok(552, "5.3.4 Error: message file too big")
        elif self._data_overlong:
            self._ok(500, "5.5.2 Error: message line too long")       # RFC 5321 §4.5.3.1.6
        elif hop_count(data) + 1 >= self.policy.hop_limit:            # + 1: our Received:
            self._ok(554, "5.4.0 Error: too many hops")
        elif self.policy.queue_full:
            self._ok(451, "4.3.0 Error: queue file write error")
        else:
            qid = self._queue_ids.next()
            message = Accepted(self.mail_from, tuple(self.recipients), data,
                               self.helo or "", self.user, qid, self.secure)
            self.accepted.append(message)
            # The reply first, then the message: the server says 250 and only then does
            # its queue manager start on the message (a DNS lookup, a local delivery).
            self._ok(250, f"2.0.0 Ok: queued as {qid}")
            self._out.append(message)
        self._reset()

    def _cmd_rset(self, arg: str) -> None:
        self._reset()
        self._ok(250, "2.0.0 Ok")

    def _cmd_noop(self, arg: str) -> None:
        self._ok(250, "2.0.0 Ok")

    def _cmd_vrfy(self, arg: str) -> None:
        if not arg:
            self._error(501, "5.5.4 Syntax: VRFY address")
        else:       # §3.5.3: 252, neither verified nor refused; Postfix echoes the address
            self._ok(252, f"2.0.0 {arg}")

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
