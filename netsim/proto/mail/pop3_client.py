"""A POP3 client (RFC 1939) that downloads a maildrop as ``fetchmail`` does, sans-I/O:
USER, PASS, STAT, UIDL, then RETR (and DELE) each message not ``seen`` before, QUIT.

A server's answer it cannot use fails the session in fetchmail's words, and then, as
fetchmail does, it still says QUIT:

- a reply that is neither ``+OK`` nor ``-ERR``, a STAT it cannot read, a UIDL line
  it cannot read (``Cannot handle UIDL response from upstream server.``), more UIDL
  lines than STAT counted, a line or a message past the sizes it keeps:
  ``client/server protocol error while fetching from bob@mail.163.com``;
- a message count that is negative or absurd (fetchmail casts it to unsigned and
  compares it with what it could allocate): ``bogus message count!``, then the same;
- the server closing first: ``socket error while fetching from …`` (no QUIT);
- ``timeout`` seconds (fetchmail's default, 300) with nothing from the server:
  ``timeout after 300 seconds waiting for server mail.163.com.`` (no QUIT).

Transcript marks: ``C`` sent, ``S`` received, ``!`` fetchmail's own report.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from netsim.proto.mail.lines import shown
from netsim.proto.stream import Close, LineBuffer, Send, StreamEngine

MAX_LINE = 1 << 20
#: The most a message may hold (a maildrop sized as a large mailbox): past it the
#: download is refused, so a server sending an endless message cannot fill memory.
MAX_MESSAGE = 64 << 20
#: fetchmail's check: more messages than it could allocate an int for each.
MAX_COUNT = (2 ** 31 - 1) // 4
_STAT = re.compile(r"\+OK\s+(-?[0-9]+)\s+(-?[0-9]+)", re.ASCII)
_UIDL = re.compile(r"\s*([0-9]{1,9})\s+(\S+)\s*", re.ASCII)


@dataclass(frozen=True, slots=True)
class Retrieved:
    number: int
    uid: str
    data: bytes


class Pop3Client(StreamEngine):
    """One fetchmail session against one maildrop."""

    def __init__(self, user: str, password: str, *, delete: bool = False,
                 seen: set[str] | None = None, server: str = "", timeout: float = 300.0) -> None:
        super().__init__()
        self.user, self.password, self.delete = user, password, delete
        self.server = server
        self.timeout = timeout
        self.seen = set(seen or ())
        self._lines = LineBuffer(MAX_LINE)
        self._queue: list[tuple[str, bool]] = []       # commands waiting, multi-line reply?
        self._waiting: tuple[str, bool] | None = ("greeting", False)
        self._multi: list[bytes] | None = None
        self._multi_size = 0
        self._status = ""
        self._deadline: float | None = None
        self.count: int | None = None                  # STAT's message count
        self.transcript: list[tuple[str, str]] = []
        self.retrieved: list[Retrieved] = []
        self.uids: dict[int, str] = {}
        self.error: str | None = None
        self.finished = False

    # -- the contract ----------------------------------------------------------------------

    def start(self, now: float) -> None:
        self._deadline = now + self.timeout

    def receive(self, data: bytes, now: float) -> None:
        if self.finished:
            return
        self._deadline = now + self.timeout            # fetchmail's timer runs per read
        for line in self._lines.feed(data):
            if self._waiting is None or self.finished:
                continue                   # nothing asked: an unsolicited line is ignored
            self._line(line)
        if self._lines.overlong and not self.finished:
            self._lines.overlong = False
            self._protocol_error(f"a line of more than {MAX_LINE} bytes")

    def connection_lost(self, now: float) -> None:
        if not self.finished:
            if self._waiting is None or self._waiting[0] != "QUIT" or self.error is None:
                self._fail(f"socket error while fetching from {self._mailbox}")
            self.finished = True

    def get_timer(self) -> float | None:
        return None if self.finished else self._deadline

    def handle_timer(self, now: float) -> None:
        if self.finished or self._deadline is None or now < self._deadline:
            return
        self._fail(f"timeout after {self.timeout:g} seconds waiting for server {self.server}.")
        self.finished = True
        self._out.append(Close())

    # -- replies ---------------------------------------------------------------------------

    @property
    def _mailbox(self) -> str:
        return f"{self.user}@{self.server}"

    def _line(self, line: bytes) -> None:
        command, multi = self._waiting
        if self._multi is not None:
            if line == b".":
                body, self._multi = self._multi, None
                self._waiting = None
                self._answered(command, self._status, body)
                return
            self._multi_size += len(line) + 2
            if self._multi_size > MAX_MESSAGE:
                return self._protocol_error(f"a reply of more than {MAX_MESSAGE} bytes")
            self._multi.append(line[1:] if line.startswith(b".") else line)
            return
        text = line.decode("utf-8", "replace")
        self.transcript.append(("S", shown(text)))
        if text.startswith("+OK") and multi:
            self._status, self._multi, self._multi_size = text, [], 0
            return
        self._waiting = None
        if command == "QUIT":
            self._end()
        elif text.startswith("-ERR"):
            if command.startswith(("USER ", "PASS ")):
                self._fail(f"authorization failure on {self._mailbox}")
            else:
                self._fail(f"{command}: {shown(text)}")
            self._quit()
        elif not text.startswith("+OK"):
            self._protocol_error(None)      # fetchmail's pop3_ok: neither +OK nor -ERR
        else:
            self._answered(command, text, None)

    def _answered(self, command: str, status: str, body: list[bytes] | None) -> None:
        verb, _, arg = command.partition(" ")
        if verb == "greeting":
            self._command(f"USER {self.user}")
            self._queue += [(f"PASS {self.password}", False), ("STAT", False), ("UIDL", True)]
        elif verb == "STAT":
            match = _STAT.match(status)
            if match is None:
                return self._protocol_error(None)
            count = int(match.group(1)) if len(match.group(1)) <= 12 else -1
            if not 0 <= count <= MAX_COUNT:
                return self._protocol_error("bogus message count!")
            self.count = count
        elif verb == "UIDL":
            lines = body or []
            if len(lines) > (self.count or 0):
                return self._protocol_error("Messages inserted into list on server. "
                                            "Cannot handle this.")
            for line in lines:
                match = _UIDL.fullmatch(line.decode("utf-8", "replace"))
                if match is None:
                    return self._protocol_error("Cannot handle UIDL response from upstream "
                                                "server.")
                self.uids[int(match.group(1))] = match.group(2)
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
        if self._queue and self._waiting is None:
            command, multi = self._queue.pop(0)
            self._command(command, multi)

    def _command(self, command: str, multi: bool = False) -> None:
        self._waiting = (command, multi)
        shown_as = "PASS ********" if command.startswith("PASS ") else command
        self.transcript.append(("C", shown_as))
        self._out.append(Send(command.encode() + b"\r\n"))

    # -- the end ---------------------------------------------------------------------------

    def _fail(self, message: str) -> None:
        if self.error is None:
            self.error = message
            self.transcript.append(("!", message))

    def _protocol_error(self, report: str | None) -> None:
        """fetchmail's PS_PROTOCOL: its report (if any), the summary line, then QUIT."""
        if report is not None and self.error is None:
            self.transcript.append(("!", report))
        self._fail(f"client/server protocol error while fetching from {self._mailbox}")
        self._multi = None
        self._quit()

    def _quit(self) -> None:
        self._queue.clear()
        if self._waiting is not None and self._waiting[0] == "QUIT":
            self._end()                     # no answer to QUIT either: give up
        else:
            self._command("QUIT")

    def _end(self) -> None:
        self.finished = True
        self._waiting = None
        self._out.append(Close())
