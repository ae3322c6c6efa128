"""POP3 (RFC 1939, with CAPA and UIDL as RFC 2449 lists them), sans-I/O.

The server session moves through the three states of RFC 1939 §3: AUTHORIZATION
(USER/PASS; the maildrop is then locked, §8), TRANSACTION (STAT, LIST, UIDL, RETR,
TOP, DELE, NOOP, RSET) and UPDATE (on QUIT: messages marked deleted are removed).
A connection that ends without QUIT deletes nothing (§6). What the client downloads
is its own copy: the server keeps no note of what was read.

:class:`Pop3Client` logs in, lists, retrieves every message (or the ones not seen
before, by UIDL), optionally deletes them, and quits.
"""

from __future__ import annotations

from dataclasses import dataclass

from netsim.proto.mail.lines import dot_stuff
from netsim.proto.mail.store import MailStore
from netsim.proto.stream import Close, LineBuffer, Send


class Pop3ServerSession:
    def __init__(self, store: MailStore, hostname: str) -> None:
        self.store = store
        self._lines = LineBuffer(512)
        self._out: list = [Send(f"+OK {hostname} POP3 server ready\r\n".encode())]
        self.user: str | None = None
        self._name: str | None = None
        self._messages: list = []
        self._deleted: set[int] = set()
        self.closed = False

    def receive(self, data: bytes) -> None:
        for line in self._lines.feed(data):
            if self.closed:
                return
            verb, _, arg = line.decode("ascii", "replace").partition(" ")
            handler = getattr(self, f"_cmd_{verb.lower()}", None) if verb.isalpha() else None
            if handler is None:
                self._err("unknown command")
            else:
                handler(arg.strip())
        if self._lines.overlong:
            self._lines.overlong = False
            self._err("line too long")

    def connection_lost(self) -> None:
        """Gone without QUIT: no UPDATE state, nothing deleted (RFC 1939 §6)."""
        self._unlock()
        self.closed = True

    # -- AUTHORIZATION ----------------------------------------------------------------------

    def _cmd_capa(self, arg: str) -> None:
        self._multi("Capability list follows", ["USER", "UIDL", "TOP", "IMPLEMENTATION netsim"])

    def _cmd_user(self, arg: str) -> None:
        if self.user is not None:
            return self._err("already authenticated")
        self._name = arg
        self._ok("send PASS")                       # never say whether the user exists

    def _cmd_pass(self, arg: str) -> None:
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
            n = self._number(arg)
            if n is not None:
                self._ok(line(n, self._messages[n - 1]))
            return
        self._multi(f"{len(self._live())} messages", [line(n, m) for n, m in self._live()])

    def _cmd_retr(self, arg: str) -> None:
        if self._authorized():
            n = self._number(arg)
            if n is not None:
                message = self._messages[n - 1]
                self._out.append(Send(f"+OK {message.size} octets\r\n".encode()
                                      + dot_stuff(message.data)))

    def _cmd_top(self, arg: str) -> None:
        if not self._authorized():
            return
        which, _, count = arg.partition(" ")
        n = self._number(which)
        if n is None:
            return
        if not count.strip().isdigit():
            return self._err("usage: TOP msg n")
        message = self._messages[n - 1]
        body = message.body.split(b"\r\n")[:int(count)]
        text = message.header + b"".join(line + b"\r\n" for line in body)
        self._out.append(Send(b"+OK top of message follows\r\n" + dot_stuff(text)))

    def _cmd_dele(self, arg: str) -> None:
        if self._authorized():
            n = self._number(arg)
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

    def _number(self, arg: str) -> int | None:
        if not arg.isdigit() or not 1 <= int(arg) <= len(self._messages):
            self._err("no such message")
            return None
        if int(arg) in self._deleted:
            self._err(f"message {arg} already deleted")
            return None
        return int(arg)

    def _live(self) -> list:
        return [(n, m) for n, m in enumerate(self._messages, 1) if n not in self._deleted]

    def _octets(self) -> int:
        return sum(m.size for _, m in self._live())

    def _unlock(self) -> None:
        if self.user is not None and self.store.locks.get(self.user) is self:
            del self.store.locks[self.user]

    def _ok(self, text: str) -> None:
        self._out.append(Send(f"+OK {text}\r\n".encode() if text else b"+OK\r\n"))

    def _err(self, text: str) -> None:
        self._out.append(Send(f"-ERR {text}\r\n".encode()))

    def _multi(self, text: str, lines: list[str]) -> None:
        self._out.append(Send(f"+OK {text}\r\n".encode()
                              + dot_stuff("".join(f"{line}\r\n" for line in lines).encode())
                              if lines else f"+OK {text}\r\n.\r\n".encode()))

    def outputs(self) -> list:
        out, self._out = self._out, []
        return out


# -- the client --------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Retrieved:
    number: int
    uid: str
    data: bytes


class Pop3Client:
    """USER, PASS, STAT, UIDL, then RETR (and DELE) each message not ``seen`` before, QUIT."""

    def __init__(self, user: str, password: str, *, delete: bool = False,
                 seen: set[str] | None = None) -> None:
        self.user, self.password, self.delete = user, password, delete
        self.seen = set(seen or ())
        self._lines = LineBuffer()
        self._out: list = []
        self._queue: list[tuple[str, bool]] = []       # commands waiting, multi-line reply?
        self._waiting: tuple[str, bool] | None = None
        self._multi: list[bytes] | None = None
        self._status = ""
        self.transcript: list[tuple[str, str]] = []
        self.retrieved: list[Retrieved] = []
        self.uids: dict[int, str] = {}
        self.error: str | None = None
        self.finished = False
        self._waiting = ("greeting", False)

    def receive(self, data: bytes) -> None:
        for line in self._lines.feed(data):
            if self._waiting is None:
                continue
            command, multi = self._waiting
            if self._multi is not None:
                if line == b".":
                    body, self._multi = self._multi, None
                    self._waiting = None
                    self._answered(command, self._status, body)
                else:
                    self._multi.append(line[1:] if line.startswith(b".") else line)
                continue
            text = line.decode("utf-8", "replace")
            self.transcript.append(("S", text if len(text) < 100 else text[:100] + "…"))
            if text.startswith("+OK") and multi:
                self._status, self._multi = text, []
                continue
            self._waiting = None
            if not text.startswith("+OK"):
                self.error = f"{command}: {text}"
                self._command("QUIT")
                self._queue.clear()
                return
            self._answered(command, text, None)

    def connection_lost(self) -> None:
        if not self.finished:
            self.error = self.error or "connection closed before QUIT"
            self.finished = True

    def _answered(self, command: str, status: str, body: list[bytes] | None) -> None:
        verb, _, arg = command.partition(" ")
        if verb == "greeting":
            self._command(f"USER {self.user}")
            self._queue += [(f"PASS {self.password}", False), ("STAT", False), ("UIDL", True)]
        elif verb == "UIDL":
            for line in body or []:
                n, _, uid = line.decode().partition(" ")
                self.uids[int(n)] = uid
            for n, uid in sorted(self.uids.items()):
                if uid not in self.seen:
                    self._queue.append((f"RETR {n}", True))
                    if self.delete:
                        self._queue.append((f"DELE {n}", False))
            self._queue.append(("QUIT", False))
        elif verb == "RETR":
            n = int(arg)
            data = b"".join(line + b"\r\n" for line in body or [])
            self.transcript.append(("S", f"<{len(data)} bytes of message {n}>"))
            self.retrieved.append(Retrieved(n, self.uids.get(n, ""), data))
        elif verb == "QUIT":
            self.finished = True
            self._out.append(Close())
            return
        if self._queue and self._waiting is None:
            command, multi = self._queue.pop(0)
            self._command(command, multi)

    def _command(self, command: str, multi: bool = False) -> None:
        self._waiting = (command, multi)
        shown = "PASS ********" if command.startswith("PASS ") else command
        self.transcript.append(("C", shown))
        self._out.append(Send(command.encode() + b"\r\n"))

    def outputs(self) -> list:
        out, self._out = self._out, []
        return out
