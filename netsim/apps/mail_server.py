"""``mail-server``: SMTP on 25 and submission on 587, POP3 on 110 and IMAP on 143 over one
mailbox store, relaying through DNS MX records with a retry queue and RFC 3464 bounces."""

from __future__ import annotations

import hashlib
from email.message import Message
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

from netsim.apps.base import App, host_names
from netsim.apps.mail_common import IMAP, POP3, SMTP, SUBMISSION, sim_date
from netsim.apps.stream_io import batch, converse
from netsim.apps.names import hosts_entry, lookup
from netsim.proto.mail import (Accepted, ImapServerSession, MailStore, Policy,
                               Pop3ServerSession, SmtpClient, SmtpServerSession)
from netsim.proto.mail.lines import crlf
from netsim.wire.addr import int_to_ip, ip_to_int, prefix_mask


def _fields(*pairs) -> Message:
    block = Message()
    for name, value in pairs:
        block[name] = value
    return block



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
        for port, make in ((SMTP, lambda s: SmtpServerSession(self.policy, ip_to_int(s.remote[0]))),
                           (SUBMISSION, lambda s: SmtpServerSession(self.policy, ip_to_int(s.remote[0]),
                                                                    submission=True)),
                           (POP3, lambda s: Pop3ServerSession(self.store, self.hostname)),
                           (IMAP, lambda s: ImapServerSession(self.store, self.hostname,
                                                              self.env.now))):
            listener = self.node.tcp_listen(port)
            self.env.process(self._accept(listener, make))

    def _accept(self, listener, make):
        while True:
            sock = yield listener.accept()
            self.env.process(self._session(sock, make(sock)))

    def _session(self, sock, session):
        peer = sock.remote[0]
        while True:
            outputs = session.outputs()
            for out in outputs:
                if isinstance(out, Accepted):
                    # The peer's name as reverse DNS would give it; netsim's hosts table here.
                    name = host_names(self.network).get(ip_to_int(peer), "unknown")
                    self._accepted(out, peer, name)
            data, closing = batch(outputs)
            if data:
                yield sock.send(data)
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
