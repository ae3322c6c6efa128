"""A mail server's queue manager, sans-I/O: what happens to a message once the SMTP
server has said ``250 2.0.0 Ok: queued as <id>`` (RFC 5321 §4.4, §4.5.4.1, §5, §6; bounces as RFC 3464
delivery status notifications). Postfix's qmgr and smtp(8), as one engine.

Theory of operation
-------------------
:meth:`MailRelay.accept` takes an :class:`~netsim.proto.mail.smtp.Accepted` message,
puts a ``Received:`` line on top under the queue id the SMTP server gave it
(:attr:`MailRelay.ids`, which the server's :class:`~netsim.proto.mail.smtp.Policy` shares). Recipients of the server's
own domain are delivered at once into its :class:`~netsim.proto.mail.store.MailStore`;
the others become one queue entry per domain, and each entry is *attempted*:

==================================  ==================================================
the engine asks (an output)          the glue answers with
==================================  ==================================================
:class:`LookUp` ``(domain, "MX")``   :meth:`~MailRelay.looked_up` (error, records)
:class:`LookUp` ``(exchange, "A")``  :meth:`~MailRelay.looked_up` (error, addresses)
:class:`Deliver` (an SMTP client     :meth:`~MailRelay.attempted` (refused, failure) once
to run against an address, port 25)  the connection is over; the client says the rest
==================================  ==================================================

Exchanges are tried in MX preference order, the domain itself when it has no MX
(RFC 5321 §5.1). An attempt ends *done* (every recipient taken or refused for good),
*bounced* (the domain does not exist, a loop) or *deferred*: the entry waits
``retry`` seconds, doubling up to an hour, and the engine's :meth:`~MailRelay.get_timer`
is its next retry. An entry older than ``give_up`` when an attempt fails bounces.
A refusal for good (5xx) bounces that recipient: a DSN from MAILER-DAEMON to the sender
(never for a bounce: its sender is null, so two servers cannot bounce forever). A
message whose next hop is this server itself bounces too. One that has passed
``hop_limit`` servers (its Received: lines, Postfix's ``hopcount_limit``) never gets
here by SMTP — the server refuses it after its dot, ``554 5.4.0 Error: too many hops``,
as Postfix's cleanup does, and the relay that sent it bounces it — but the queue counts
too, for a message that comes another way.

With ``starttls`` the queue's SMTP client starts TLS whenever the next hop offers it,
as Postfix's ``smtp_tls_security_level = may`` (opportunistic TLS, RFC 3207 §4.1 and
RFC 7435): no certificate is checked, a server that offers no STARTTLS gets the message
in the clear, and a handshake that fails defers the message (``Cannot start TLS:
handshake failure``; Postfix would retry that host in the clear at once, which is not
modelled). The glue reports a finished handshake with :meth:`MailRelay.secured`, logged
as Postfix logs it: ``Untrusted TLS connection established to …`` (the scenario's CA is
in no system trust store, so Postfix's default ``smtp_tls_CApath`` cannot verify it).
The ``Received:`` line says how the message came (RFC 3848): ``ESMTP``, ``ESMTPA``
(authenticated), ``ESMTPS`` (inside TLS) or ``ESMTPSA`` (both).

Every fate is a :class:`Logged` line, worded as Postfix logs it
(``B42F230001: to=<bob@163.com>, relay=mail.163.com[10.3.0.25]:25, status=sent (250 …)``),
and an entry in :attr:`MailRelay.log`.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from email.message import Message
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

from netsim.proto.mail.headers import hop_count, mail_date
from netsim.proto.mail.lines import crlf
from netsim.proto.mail.queue_ids import QueueIds
from netsim.proto.mail.smtp import HOP_LIMIT, Accepted
from netsim.proto.mail.smtp_client import Reply, SmtpClient
from netsim.proto.mail.store import MailStore

#: Postfix's maximal_backoff_time; smtp(8) waits 300 s for a reply.
MAX_WAIT = 3600.0
SMTP_TIMEOUT = 300.0


# -- outputs ----------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class LookUp:
    """Look ``name`` up (``rdtype`` MX or A) and answer :meth:`MailRelay.looked_up`."""
    ticket: int
    name: str
    rdtype: str


@dataclass(frozen=True, slots=True)
class Deliver:
    """Connect to ``address`` port 25, run ``client`` over the connection, and answer
    :meth:`MailRelay.attempted` when it is over."""
    ticket: int
    exchange: str
    address: ipaddress.IPv4Address | ipaddress.IPv6Address
    client: SmtpClient


@dataclass(frozen=True, slots=True)
class Logged:
    """A line of the mail log."""
    text: str


# -- the queue ----------------------------------------------------------------------------------

@dataclass(eq=False)
class Entry:
    """One message for one domain, waiting or being attempted."""
    id: str
    mail_from: str
    to: list[str]
    domain: str
    data: bytes
    since: float
    wait: float
    attempts: int = 0
    last_error: str | None = None
    next_try: float | None = None          # None while an attempt is under way
    exchanges: list[str] = field(default_factory=list)
    tried: int = 0                         # exchanges tried this attempt


def exchanges_of(records: list[str]) -> list[str]:
    """MX records (``"10 mail.163.com."``) → the exchanges, most preferred first
    (RFC 5321 §5.1); a record that does not read as one is passed over."""
    exchanges = []
    for record in records:
        preference, _, exchange = record.partition(" ")
        exchange = exchange.strip().rstrip(".")
        if preference.isascii() and preference.isdigit() and len(preference) <= 5 and exchange:
            exchanges.append((int(preference), exchange))
    return [name for _preference, name in sorted(exchanges)]


#: An enhanced status code at the start of a reply's text (RFC 3463 §2: class.subject.detail).
_STATUS = re.compile(r"([245])\.([0-9]{1,3})\.([0-9]{1,3})(?=\s|$)", re.ASCII)


def said(peer: str, reply: Reply) -> str:
    """A refusal as Postfix's smtp(8) words it: ``host mail.163.com[10.3.0.25] said: 550
    5.1.1 <nobody@163.com>: … (in reply to RCPT TO command)``."""
    if not reply.command:
        return f"host {peer} refused to talk to me: {reply.code} {reply.text}"
    return f"host {peer} said: {reply.code} {reply.text} (in reply to {reply.command} command)"


def dsn_status(reply: Reply) -> str:
    """The DSN ``Status:`` of a refusal (RFC 3464 §2.3.4): the enhanced status code the
    server gave (RFC 2034), of the reply's own class; else ``5.0.0``, as Postfix does."""
    match = _STATUS.match(reply.text)
    if match and match.group(1) == str(reply.code)[0]:
        return match.group(0)
    return f"{str(reply.code)[0]}.0.0"


def _fields(*pairs) -> Message:
    block = Message()
    for name, value in pairs:
        block[name] = value
    return block


class MailRelay:
    """The queue of one mail server (see the module's docstring)."""

    def __init__(self, *, hostname: str, domain: str, store: MailStore, retry: float = 30.0,
                 give_up: float = 600.0, hop_limit: int = HOP_LIMIT,
                 starttls: bool = False) -> None:
        self.hostname = hostname
        self.starttls = starttls
        self.domain = domain
        self.store = store
        self.retry, self.give_up, self.hop_limit = retry, give_up, hop_limit
        self.queue: list[Entry] = []
        self.counts = {"received": 0, "delivered": 0, "relayed": 0, "deferred": 0, "bounced": 0}
        #: Every message's fate: queue id → what happened, in order.
        self.log: list[dict] = []
        #: The queue ids of this server (its SMTP server names them in ``queued as``).
        self.ids = QueueIds(hostname)
        self._tickets: dict[int, tuple] = {}
        self._next_ticket = 0
        self._out: list = []

    # -- the engine's contract ------------------------------------------------------------

    def outputs(self) -> list:
        out, self._out = self._out, []
        return out

    def get_timer(self) -> float | None:
        waiting = [e.next_try for e in self.queue if e.next_try is not None]
        return min(waiting) if waiting else None

    def handle_timer(self, now: float) -> None:
        for entry in [e for e in self.queue if e.next_try is not None and e.next_try <= now]:
            entry.next_try = None
            entry.wait = min(entry.wait * 2, MAX_WAIT)
            self._attempt(entry, now)

    # -- what comes in ----------------------------------------------------------------------

    def accept(self, message: Accepted, peer: str, peer_name: str, now: float) -> None:
        """A message the SMTP server took from ``peer`` (``peer_name`` as reverse DNS
        gives it)."""
        qid = message.queue_id or self.ids.next()
        self.counts["received"] += 1
        # RFC 3848's transmission types: S inside TLS, A authenticated.
        by = "ESMTP" + ("S" if message.tls else "") + ("A" if message.authenticated else "")
        local, remote = [], []
        for rcpt in message.recipients:
            (local if self._is_local(rcpt) else remote).append(rcpt)

        def stamp(rcpt: str | None) -> bytes:
            return self._stamped(message.data, message.helo, peer_name, peer, by, qid, rcpt, now)

        if hop_count(stamp(None)) >= self.hop_limit:
            entry = Entry(qid, message.mail_from, list(message.recipients), "", message.data,
                          now, self.retry)
            self._bounce(entry, entry.to, "too many hops", now, status="5.4.0")
            return
        for rcpt in local:
            self._deliver(rcpt, stamp(rcpt), qid, now)
        if remote:
            self._enqueue(qid, message.mail_from, remote, stamp(remote[0] if len(remote) == 1
                                                                 else None), now)

    def looked_up(self, ticket: int, error: str | None, records: list[str], now: float) -> None:
        """The name service's answer: ``error`` as getaddrinfo words it, or the records
        (MX as ``"10 mail.163.com."``, A as dotted quads)."""
        entry, kind, name = self._tickets.pop(ticket)
        if kind == "MX":
            self._mx_answer(entry, error, records, now)
        elif error or not records:
            entry.last_error = f"{name}: {error or 'No address associated with hostname'}"
            self._next_exchange(entry, now)
        else:
            self._connect(entry, name, ipaddress.ip_address(records[0]), now)

    def secured(self, ticket: int, words: str, now: float) -> None:
        """The :class:`Deliver`'s client is inside TLS now (``words``: the handshake as
        Postfix logs it, ``TLSv1.3 with cipher … (256/256 bits)``)."""
        _entry, _kind, (exchange, address, _client) = self._tickets[ticket]
        self._say(f"Untrusted TLS connection established to {exchange}[{address}]:25: {words}")

    def attempted(self, ticket: int, refused: str | None, now: float) -> None:
        """The SMTP connection of a :class:`Deliver` is over; ``refused`` says why it
        could not be made ("Connection refused", "Connection timed out", …)."""
        entry, _kind, (exchange, address, client) = self._tickets.pop(ticket)
        peer = f"{exchange}[{address}]"
        relay = f"{peer}:25"
        done = client.done
        if refused is not None:
            entry.last_error = f"connect to {relay}: {refused}"
        elif client.tls_error is not None:
            entry.last_error = "Cannot start TLS: handshake failure"   # smtp(8)'s words
        elif done is None:
            entry.last_error = f"lost connection with {peer}"
        else:
            for rcpt in done.delivered:
                self.counts["relayed"] += 1
                self.log.append({"id": entry.id, "t": now, "to": rcpt, "status": "relayed",
                                 "relay": relay})
                final = client.final_reply
                self._say(f"{entry.id}: to=<{rcpt}>, relay={relay}, status=sent "
                          f"({final.code} {final.text})")
            permanent = {r: reply for r, reply in done.failed.items()
                         if reply.code and not reply.transient}
            for rcpt, reply in permanent.items():
                self._bounce(entry, [rcpt], said(peer, reply), now, status=dsn_status(reply))
            entry.to = [r for r in entry.to if r not in done.delivered and r not in permanent]
            if not entry.to:
                self.queue.remove(entry)
                return
            reply = done.failed.get(entry.to[0]) or done.error
            if reply is not None and reply.code:
                entry.last_error = said(peer, reply)
            elif client.lost or reply is None:
                entry.last_error = f"lost connection with {peer}"
            else:
                entry.last_error = f"conversation with {peer} timed out"
        self._next_exchange(entry, now)

    # -- an attempt ---------------------------------------------------------------------------

    def _enqueue(self, qid: str, mail_from: str, recipients: list[str], data: bytes,
                 now: float) -> None:
        by_domain: dict[str, list[str]] = {}
        for rcpt in recipients:
            by_domain.setdefault(rcpt.rpartition("@")[2].lower(), []).append(rcpt)
        for domain, rcpts in by_domain.items():
            entry = Entry(qid, mail_from, rcpts, domain, data, now, self.retry)
            self.queue.append(entry)
            self._attempt(entry, now)

    def _attempt(self, entry: Entry, now: float) -> None:
        entry.attempts += 1
        entry.exchanges, entry.tried = [], 0
        self._ask(entry, "MX", entry.domain)

    def _mx_answer(self, entry: Entry, error: str | None, records: list[str], now: float) -> None:
        domain = entry.domain
        if error == "Name or service not known":
            self._bounce(entry, entry.to, f"Host or domain name not found. Name service error "
                                          f"for name={domain} type=MX: Host not found", now)
            self.queue.remove(entry)
            return
        if error and error != "No address associated with hostname":
            entry.last_error = f"Host or domain name lookup for {domain} failed: {error}"
            self._after_attempt(entry, now)
            return
        entry.exchanges = exchanges_of(records) or [domain]
        self._next_exchange(entry, now)

    def _next_exchange(self, entry: Entry, now: float) -> None:
        if entry.tried >= len(entry.exchanges):
            self._after_attempt(entry, now)
            return
        exchange = entry.exchanges[entry.tried]
        entry.tried += 1
        if exchange.lower() == self.hostname.lower():
            # RFC 5321 §5.1: the best MX is this server, yet the domain is not its own.
            self._bounce(entry, entry.to, f"mail for {entry.domain} loops back to myself", now,
                         status="5.4.6")
            self.queue.remove(entry)
            return
        self._ask(entry, "A", exchange)

    def _connect(self, entry: Entry, exchange: str, address, now: float) -> None:
        client = SmtpClient(helo=self.hostname, mail_from=entry.mail_from, recipients=entry.to,
                            data=entry.data, timeout=SMTP_TIMEOUT,
                            starttls="may" if self.starttls else None)
        ticket = self._ticket(entry, "SMTP", (exchange, address, client))
        self._out.append(Deliver(ticket, exchange, address, client))

    def _after_attempt(self, entry: Entry, now: float) -> None:
        """The attempt failed everywhere: retry later, or bounce if it waited too long."""
        if now - entry.since >= self.give_up:
            self._bounce(entry, entry.to, f"delivery temporarily suspended: "
                                          f"{entry.last_error or 'unknown'}; "
                                          "gave up after its time in the queue", now)
            self.queue.remove(entry)
            return
        self.counts["deferred"] += 1
        self._say(f"{entry.id}: to=<{', '.join(entry.to)}>, status=deferred "
                  f"({entry.last_error}), retry in {entry.wait:g} s")
        entry.next_try = now + entry.wait

    def _ask(self, entry: Entry, rdtype: str, name: str) -> None:
        self._out.append(LookUp(self._ticket(entry, rdtype, name), name, rdtype))

    def _ticket(self, entry: Entry, kind: str, detail) -> int:
        self._next_ticket += 1
        self._tickets[self._next_ticket] = (entry, kind, detail)
        return self._next_ticket

    # -- delivery and bounces -----------------------------------------------------------------

    def _is_local(self, rcpt: str) -> bool:
        return rcpt.rpartition("@")[2].lower() == self.domain

    def _stamped(self, data: bytes, helo: str, peer_name: str, peer: str, by: str, qid: str,
                 rcpt: str | None, now: float) -> bytes:
        """RFC 5321 §4.4: each server that takes a message puts a Received: line on top."""
        for_clause = f"\r\n\tfor <{rcpt}>" if rcpt else ""
        header = (f"Received: from {helo} ({peer_name} [{peer}])\r\n\tby {self.hostname} (netsim) "
                  f"with {by} id {qid}{for_clause}; {mail_date(now)}\r\n")
        return header.encode() + data

    def _deliver(self, rcpt: str, data: bytes, qid: str, now: float) -> None:
        user = rcpt.rpartition("@")[0]
        self.store.deliver(user, data, now)
        self.counts["delivered"] += 1
        self.log.append({"id": qid, "t": now, "to": rcpt, "status": "delivered",
                         "mailbox": f"{user}/INBOX"})
        self._say(f"{qid}: to=<{rcpt}>, relay=local, status=sent (delivered to mailbox {user})")

    def _bounce(self, entry: Entry, recipients: list[str], why: str, now: float, *,
                status: str = "5.0.0") -> None:
        """A delivery status notification to the sender (RFC 3464), from MAILER-DAEMON;
        never for a bounce (null sender), so two servers cannot bounce forever."""
        self.counts["bounced"] += len(recipients)
        for rcpt in recipients:
            self.log.append({"id": entry.id, "t": now, "to": rcpt, "status": "bounced",
                             "why": why})
            self._say(f"{entry.id}: to=<{rcpt}>, status=bounced ({why})")
        sender = entry.mail_from
        if not sender:
            return
        data = self._report(entry.id, sender, recipients, why, status, now)
        qid = self.ids.next()
        if self._is_local(sender):
            self._deliver(sender, data, qid, now)
        else:
            self._enqueue(qid, "", [sender], data, now)

    def _report(self, qid: str, sender: str, recipients: list[str], why: str, status: str,
                now: float) -> bytes:
        # RFC 3464: multipart/report with a human part and a message/delivery-status part.
        report = MIMEMultipart("report", report_type="delivery-status",
                               boundary=f"=_netsim_bounce_{qid}")
        report["From"] = f"MAILER-DAEMON@{self.hostname}"
        report["To"] = sender
        report["Subject"] = "Undelivered Mail Returned to Sender"
        report["Date"] = mail_date(now)
        report["Message-ID"] = f"<{qid}.bounce@{self.hostname}>"
        report.attach(MIMEText(f"This is the mail system at host {self.hostname}.\n\n"
                               "I'm sorry to have to inform you that your message could not be "
                               "delivered to one or more recipients.\n\n"
                               + "".join(f"<{r}>: {why}\n" for r in recipients)))
        # Its body is blocks of fields, which the email package keeps as header-only messages.
        blocks = [_fields(("Reporting-MTA", f"dns; {self.hostname}"))]
        blocks += [_fields(("Final-Recipient", f"rfc822; {r}"), ("Action", "failed"),
                           ("Status", status), ("Diagnostic-Code", f"smtp; {why}"))
                   for r in recipients]
        delivery_status = MIMEBase("message", "delivery-status")
        delivery_status.set_payload(blocks)
        report.attach(delivery_status)
        return crlf(report.as_bytes())

    def _say(self, text: str) -> None:
        self._out.append(Logged(text))

    # -- for the run's summary ------------------------------------------------------------------

    def queued(self) -> list[dict]:
        return [{"id": e.id, "to": e.to, "attempts": e.attempts, "last_error": e.last_error}
                for e in self.queue]
