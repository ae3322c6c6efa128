"""A POP3 server (RFC 1939, with CAPA and UIDL as RFC 2449 lists them), sans-I/O.

The server session moves through the three states of RFC 1939 §3: AUTHORIZATION
(USER/PASS; the maildrop is then locked, §8), TRANSACTION (STAT, LIST, UIDL, RETR,
TOP, DELE, NOOP, RSET) and UPDATE (on QUIT: messages marked deleted are removed).
A connection that ends without QUIT deletes nothing (§6). What the client downloads
is its own copy: the server keeps no note of what was read.

It answers as Dovecot does: ``-ERR Unknown command: FROB``; a line past 512 octets
(RFC 2449 §4 allows 255) is ``-ERR Input line too long.`` and the end of the session;
after :attr:`MAX_ERRORS` failed commands in a row, ``-ERR Too many bad commands.``
and the end. The client is :class:`~netsim.proto.mail.pop3_client.Pop3Client`.

TLS (RFC 2595, RFC 8314) as Dovecot's pop3-login has it: ``tls=True`` is POP3S on 995
(inside TLS from the first byte); ``starttls=True`` lists ``STLS`` in CAPA and answers it
``+OK Begin TLS negotiation now.`` in the AUTHORIZATION state (after it, ``-ERR Unknown
command: STLS``: RFC 2595 §4 allows it only there), dropping what the client sent after
it and the USER name given before (:mod:`~netsim.proto.mail.tls_session`).
``auth_needs_tls`` is Dovecot's ``disable_plaintext_auth = yes``: before TLS, CAPA lists
no USER and USER/PASS are ``-ERR [AUTH] Plaintext authentication disallowed on
non-secure (SSL/TLS) connections.``
"""

from __future__ import annotations

from netsim.proto.mail.lines import dot_stuff
from netsim.proto.mail.store import MailStore
from netsim.proto.mail.tls_session import TlsServerSession
from netsim.proto.stream import Close, LineBuffer, LineServer, Send

PLAINTEXT_DISALLOWED = ("[AUTH] Plaintext authentication disallowed on non-secure (SSL/TLS) "
                        "connections.")


def _number(text: str) -> int | None:
    """A message number or line count as RFC 1939 writes it: ASCII digits, and not so
    many that ``int()`` refuses them (``²``, ``9`` × 5,000)."""
    if not (text.isascii() and text.isdigit()) or len(text) > 9:
        return None
    return int(text)


class Pop3ServerSession(TlsServerSession, LineServer):
    MAX_ERRORS = 20                      # Dovecot's CLIENT_MAX_BAD_COMMANDS
    LINE_LIMIT = 512

    def __init__(self, store: MailStore, hostname: str, *, starttls: bool = False,
                 tls: bool = False, auth_needs_tls: bool = False) -> None:
        super().__init__()
        self._init_tls(starttls=starttls, tls=tls)
        self.auth_needs_tls = auth_needs_tls
        self.store = store
        self.hostname = hostname
        self.user: str | None = None
        self._name: str | None = None
        self._messages: list = []
        self._deleted: set[int] = set()

    def start(self, now: float) -> None:
        self.start_secure()
        self._out.append(Send(f"+OK {self.hostname} POP3 server ready\r\n".encode()))

    def connection_lost(self, now: float) -> None:
        """Gone without QUIT: no UPDATE state, nothing deleted (RFC 1939 §6)."""
        self._unlock()
        self.closed = True

    # -- the line-server hooks ----------------------------------------------------------------

    def receive(self, data: bytes, now: float) -> None:
        """LineServer's loop, stopping at STLS: the rest is dropped unread (RFC 2595 §3.1)."""
        self.now = now
        lines = self._lines.feed(data)
        for n, line in enumerate(lines):
            if self.closed:
                return
            if self._upgrading:
                self._drop_pending(len(lines) - n)
                return
            self.line(line)
        if self._upgrading:
            self._drop_pending()
        elif self._lines.overlong and not self.closed:
            self._lines.overlong = False
            self.too_long()

    def _new_reader(self) -> LineBuffer:
        return LineBuffer(self.LINE_LIMIT)

    def _forget_for_tls(self) -> None:
        self._name = None                   # RFC 2595 §4: USER again, inside TLS

    def line(self, line: bytes) -> None:
        self.dispatch(line.decode("ascii", "replace"))

    def command(self, verb: str, arg: str, handler) -> None:
        handler(arg.strip())

    def unknown(self, verb: str, arg: str) -> None:
        self._err(f"Unknown command: {verb}" if verb else "Unknown command.")

    def too_long(self) -> None:
        self._out.append(Send(b"-ERR Input line too long.\r\n"))
        self._unlock()
        self.closed = True
        self._out.append(Close("line too long"))

    def too_many_errors(self) -> None:
        self._out.append(Send(b"-ERR Too many bad commands.\r\n"))
        self._unlock()

    # -- AUTHORIZATION ----------------------------------------------------------------------

    def _cmd_capa(self, arg: str) -> None:
        capabilities = ["USER"] if self._plaintext_ok else []
        capabilities += ["UIDL", "TOP"]
        if self.starttls_offered and not self.secure and self.user is None:
            capabilities.append("STLS")
        self._multi("Capability list follows", capabilities + ["IMPLEMENTATION netsim"])

    def _cmd_stls(self, arg: str) -> None:
        """RFC 2595 §4, in Dovecot's words (login-common's client_cmd_starttls)."""
        if self.user is not None:
            return self.unknown("STLS", arg)     # only in the AUTHORIZATION state
        if self.secure:
            return self._err("TLS is already active.")
        if not self.starttls_offered:
            return self._err("TLS support isn't enabled.")
        self._ok("Begin TLS negotiation now.")
        self._begin_tls()

    @property
    def _plaintext_ok(self) -> bool:
        return self.secure or not self.auth_needs_tls

    def _cmd_user(self, arg: str) -> None:
        if self.user is not None:
            return self._err("already authenticated")
        if not self._plaintext_ok:
            return self._err(PLAINTEXT_DISALLOWED)
        self._name = arg
        self._ok("send PASS")                       # never say whether the user exists

    def _cmd_pass(self, arg: str) -> None:
        if self.user is None and not self._plaintext_ok:
            return self._err(PLAINTEXT_DISALLOWED)
        if self.user is not None or self._name is None:
            return self._err("send USER first")
        name, self._name = self._name, None
        if not self.store.check_password(name, arg):
            return self._err("[AUTH] invalid user name or password")
        if name in self.store.locks:
            return self._err("[IN-USE] maildrop already locked")
        self.store.locks[name] = self
        self.user = name
        self._messages = list(self.store.folder(name, "INBOX").messages)
        self._ok(f"maildrop has {len(self._messages)} messages ({self._octets()} octets)")

    def _cmd_quit(self, arg: str) -> None:
        if self.user is not None:                   # the UPDATE state (§6)
            inbox = self.store.folder(self.user, "INBOX")
            gone = {id(self._messages[n - 1]) for n in self._deleted}
            inbox.messages = [m for m in inbox.messages if id(m) not in gone]
            if gone:
                self.store.changed(self.user, "INBOX", self)
            self._unlock()
            self._ok(f"bye ({len(gone)} messages deleted)")
        else:
            self._ok("bye")
        self.closed = True
        self._out.append(Close())

    # -- TRANSACTION ------------------------------------------------------------------------

    def _cmd_stat(self, arg: str) -> None:
        if self._authorized():
            self._ok(f"{len(self._live())} {self._octets()}")

    def _cmd_list(self, arg: str) -> None:
        self._listing(arg, lambda n, m: f"{n} {m.size}")

    def _cmd_uidl(self, arg: str) -> None:
        self._listing(arg, lambda n, m: f"{n} {m.uid}")

    def _listing(self, arg: str, line) -> None:
        if not self._authorized():
            return
        if arg:
            n = self._message(arg)
            if n is not None:
                self._ok(line(n, self._messages[n - 1]))
            return
        self._multi(f"{len(self._live())} messages", [line(n, m) for n, m in self._live()])

    def _cmd_retr(self, arg: str) -> None:
        if self._authorized():
            n = self._message(arg)
            if n is not None:
                message = self._messages[n - 1]
                self._good()
                self._out.append(Send(f"+OK {message.size} octets\r\n".encode()
                                      + dot_stuff(message.data)))

    def _cmd_top(self, arg: str) -> None:
        if not self._authorized():
            return
        which, _, count = arg.partition(" ")
        n = self._message(which)
        if n is None:
            return
        lines = _number(count.strip())
        if lines is None:
            return self._err("usage: TOP msg n")
        message = self._messages[n - 1]
        body = message.body.split(b"\r\n")[:lines]
        text = message.header + b"".join(line + b"\r\n" for line in body)
        self._good()
        self._out.append(Send(b"+OK top of message follows\r\n" + dot_stuff(text)))

    def _cmd_dele(self, arg: str) -> None:
        if self._authorized():
            n = self._message(arg)
            if n is not None:
                self._deleted.add(n)
                self._ok(f"message {n} deleted")

    def _cmd_rset(self, arg: str) -> None:
        if self._authorized():
            self._deleted.clear()
            self._ok(f"maildrop has {len(self._messages)} messages ({self._octets()} octets)")

    def _cmd_noop(self, arg: str) -> None:
        if self._authorized():
            self._ok("")

    # -- helpers ----------------------------------------------------------------------------

    def _authorized(self) -> bool:
        if self.user is None:
            self._err("not authenticated")
            return False
        return True

    def _message(self, arg: str) -> int | None:
        n = _number(arg)
        if n is None or not 1 <= n <= len(self._messages):
            self._err("no such message")
            return None
        if n in self._deleted:
            self._err(f"message {arg} already deleted")
            return None
        return n

    def _live(self) -> list:
        return [(n, m) for n, m in enumerate(self._messages, 1) if n not in self._deleted]

    def _octets(self) -> int:
        return sum(m.size for _, m in self._live())

    def _unlock(self) -> None:
        if self.user is not None and self.store.locks.get(self.user) is self:
            del self.store.locks[self.user]

    def _good(self) -> None:
        """A command that worked: Dovecot counts bad commands in a row."""
        self._errors = 0

    def _ok(self, text: str) -> None:
        self._good()
        self._out.append(Send(f"+OK {text}\r\n".encode() if text else b"+OK\r\n"))

    def _err(self, text: str) -> None:
        self._out.append(Send(f"-ERR {text}\r\n".encode()))
        self.count_error()

    def _multi(self, text: str, lines: list[str]) -> None:
        self._good()
        self._out.append(Send(f"+OK {text}\r\n".encode()
                              + dot_stuff("".join(f"{line}\r\n" for line in lines).encode())
                              if lines else f"+OK {text}\r\n.\r\n".encode()))
