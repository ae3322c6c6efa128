"""``mail-server``: SMTP on 25 and submission on 587, POP3 on 110 and IMAP on 143 over one
mailbox store, relaying through DNS MX records with a retry queue and RFC 3464 bounces.

Thin glue: each connection is a session engine of :mod:`netsim.proto.mail` on the one
runtime (:func:`~netsim.sim.runtime.serve`), and the queue is the sans-I/O
:class:`~netsim.proto.mail.relay.MailRelay`, whose retries are its own timer. The glue
answers what the queue asks: name lookups (the hosts table, then DNS) and SMTP
connections to the next hop (a :class:`~netsim.sim.runtime.StreamDriver` each).

With ``tls`` it is configured as a careful administrator configures Postfix and Dovecot
(RFC 8314): SMTPS on 465, IMAPS on 993 and POP3S on 995 (TLS from the first byte);
STARTTLS on 25, 587 and 143 and STLS on 110; a password only inside TLS (Postfix's
``smtpd_tls_auth_only = yes``, Dovecot's ``disable_plaintext_auth = yes``), submission
on 587 with ``smtpd_tls_security_level = encrypt``; and the relay's own SMTP client
starts TLS whenever the next hop offers it, unauthenticated, as Postfix's
``smtp_tls_security_level = may`` does. Without ``tls`` nothing of that is offered."""

from __future__ import annotations

import ipaddress

from netsim.apps.base import App, host_names
from netsim.apps.mail_common import IMAP, IMAPS, POP3, POP3S, SMTP, SMTPS, SUBMISSION
from netsim.apps.names import hosts_entry, lookup
from netsim.apps.tls import TLS_SCHEMA, tls_options, tls_world
from netsim.proto.mail import (Accepted, ImapServerSession, MailStore, Policy, Pop3ServerSession,
                               SmtpServerSession)
from netsim.proto.mail.relay import Deliver, Logged, LookUp, MailRelay
from netsim.proto.mail.smtp_client import Done
from netsim.proto.mail.tls_session import TlsStarted, cipher_bits
from netsim.sim.driver import EngineDriver
from netsim.sim.runtime import StreamDriver, serve
from netsim.wire.addr import int_to_ip, ip_to_int


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
        "tls": {**TLS_SCHEMA, "description": (
            "TLS: SMTPS 465, IMAPS 993, POP3S 995, STARTTLS on 25/587/143 and STLS on 110, "
            "passwords only inside TLS, and STARTTLS to the next hop when it offers it "
            "(true, or {version, fault})")},
    }
    REQUIRED = ["domain", "users"]
    SERVICE = True
    BINDS = ("tcp", SMTP)
    EXAMPLE = {"node": "mail163", "run": "mail-server", "domain": "163.com",
               "users": {"bob": "secret"}}

    def __init__(self, node, *, domain: str, users: dict[str, str], hostname: str | None = None,
                 relay_from: list[str] | None = None, retry: float = 30.0, give_up: float = 600.0,
                 max_size: int = 10 * 1024 * 1024, tls=None, at: float = 0.0) -> None:
        super().__init__(node, at=at)
        self.tls = tls_options(tls)
        self.domain = domain.lower().rstrip(".")
        self.hostname = hostname or f"mail.{self.domain}"
        self.store = MailStore(users)
        networks = [ipaddress.ip_network(cidr, strict=False) for cidr in relay_from or []]
        self.relay = MailRelay(hostname=self.hostname, domain=self.domain, store=self.store,
                               retry=retry, give_up=give_up, starttls=self.tls is not None)
        # A POP3 session's lock makes the mailbox busy for SMTP: the lock table itself;
        # the queue's ids are the ones the SMTP server names in "queued as".
        self.policy = Policy(self.hostname, {self.domain}, set(users), networks, dict(users),
                             max_size=max_size, busy=self.store.locks,
                             queue_ids=self.relay.ids)
        self._relay_driver = EngineDriver(self.env, self.relay, self._relay_output)

    # -- listening ---------------------------------------------------------------------------

    def start(self) -> None:
        if self.tls is None:
            policy, store = self.policy, self.store
            for port, make in (
                    (SMTP, lambda s: SmtpServerSession(policy, s.remote[0])),
                    (SUBMISSION, lambda s: SmtpServerSession(policy, s.remote[0], submission=True)),
                    (POP3, lambda s: Pop3ServerSession(store, self.hostname)),
                    (IMAP, lambda s: ImapServerSession(store, self.hostname, self.env.now))):
                serve(self, port, make, on_output=self._session_output)
            return
        self._start_tls_services()

    def _start_tls_services(self) -> None:
        """Every service, with TLS (the module's docstring says how it is configured)."""
        world = tls_world(self.network)
        layers = world.server_layer(world.server_context(self, [self.hostname], self.tls))
        # The relay's client: smtp_tls_security_level = may checks no certificate.
        relay = {"verify": False, **({"version": self.tls["version"]} if "version" in self.tls
                                     else {})}
        self._relay_tls = world.client_context(relay)
        policy, store, host = self.policy, self.store, self.hostname

        def smtp(**kw):
            return lambda s: SmtpServerSession(policy, s.remote[0], **kw)

        def pop3(**kw):
            return lambda s: Pop3ServerSession(store, host, auth_needs_tls=True, **kw)

        def imap(**kw):
            return lambda s: ImapServerSession(store, host, self.env.now, auth_needs_tls=True,
                                               **kw)

        for port, make, implicit in (
                (SMTP, smtp(starttls=True, auth_needs_tls=True), False),
                (SUBMISSION, smtp(submission=True, starttls=True, auth_needs_tls=True,
                                  tls_required=True), False),
                (SMTPS, smtp(submission=True, tls=True), True),
                (POP3, pop3(starttls=True), False),
                (POP3S, pop3(tls=True), True),
                (IMAP, imap(starttls=True), False),
                (IMAPS, imap(tls=True), True)):
            serve(self, port, make, layer=layers if implicit else None,
                  starttls=None if implicit else layers, on_output=self._session_output)

    def _session_output(self, driver: StreamDriver, out) -> None:
        if isinstance(out, TlsStarted):
            if isinstance(driver.engine, SmtpServerSession):
                info = out.info or driver.layer.info()
                peer = driver.sock.remote[0]
                name = host_names(self.network).get(ip_to_int(peer), "unknown")
                # Postfix's smtpd log line; "Anonymous": no client certificate asked for.
                self.say(f"Anonymous TLS connection established from {name}[{peer}]: "
                         f"{tls_words(info)}")
        elif isinstance(out, Accepted):
            peer = driver.sock.remote[0]
            # The peer's name as reverse DNS would give it; netsim's hosts table here.
            name = host_names(self.network).get(ip_to_int(peer), "unknown")
            self.relay.accept(out, peer, name, self.env.now)
            self._relay_driver.kick()

    # -- what the queue asks -----------------------------------------------------------------

    def _relay_output(self, out) -> None:
        if isinstance(out, Logged):
            self.say(out.text)
        elif isinstance(out, LookUp):
            self._look_up(out)
        elif isinstance(out, Deliver):
            self._deliver(out)

    def _deliver(self, out: Deliver) -> None:
        """One SMTP connection for the queue. The queue hears of it when the client is
        done (its Done output, as smtp(8) reports to qmgr and exits: a peer that never
        finishes closing holds up nothing), or when the connection ends without that."""
        reported = []

        def report(refused: str | None) -> None:
            if not reported:
                reported.append(True)
                self.relay.attempted(out.ticket, refused, self.env.now)
                self._relay_driver.kick()

        def output(item) -> None:
            if isinstance(item, Done):
                report(None)
            elif isinstance(item, TlsStarted):
                self.relay.secured(out.ticket, tls_words(item.info), self.env.now)
                self._relay_driver.kick()

        starttls = None
        if self.tls is not None:
            context = self._relay_tls
            starttls = lambda: tls_world(self.network).client_layer(  # noqa: E731
                context, self, out.exchange, SMTP)
        StreamDriver(self, out.client, on_output=output, starttls=starttls,
                     on_end=lambda driver: report(driver.refused)).connect(str(out.address), SMTP)

    def _look_up(self, out: LookUp) -> None:
        """getaddrinfo for the queue: the hosts table first for an address, then DNS."""
        if out.rdtype == "A":
            address = hosts_entry(self.network, out.name)
            if address is not None:
                self.relay.looked_up(out.ticket, None, [int_to_ip(address)], self.env.now)
                self._relay_driver.kick()
                return

        def answered(event) -> None:
            answer = event.value
            self.relay.looked_up(out.ticket, answer.error, list(answer.addresses or []),
                                 self.env.now)
            self._relay_driver.kick()

        lookup(self.node, out.name, out.rdtype).callbacks.append(answered)

    # -- the end -------------------------------------------------------------------------------

    @property
    def counts(self) -> dict:
        return self.relay.counts

    def summary_line(self) -> str:
        c = self.counts
        boxes = ", ".join(f"{u}: {len(f['INBOX'].messages)}" for u, f in self.store.folders.items())
        return (f"mail-server {self.hostname}: {c['received']} messages received, "
                f"{c['delivered']} delivered locally, {c['relayed']} relayed, {c['deferred']} "
                f"deferrals, {c['bounced']} bounced, {len(self.relay.queue)} still queued; "
                f"mailboxes: {boxes}")

    def result(self) -> dict:
        return {"hostname": self.hostname, "domain": self.domain, **self.counts,
                "queued": self.relay.queued(), "log": self.relay.log,
                "mailboxes": self.store.contents()}


def tls_words(info) -> str:
    """A handshake as Postfix logs it: ``TLSv1.3 with cipher TLS_AES_256_GCM_SHA384
    (256/256 bits)``."""
    bits = cipher_bits(info.cipher)
    return f"{info.version} with cipher {info.cipher} ({bits}/{bits} bits)"
