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

TLS (RFC 2595, RFC 8314) as fetchmail does it: ``tls=True`` is POP3S on 995 (``--ssl``:
TLS from the first byte); ``starttls=True`` asks CAPA first and, when it lists STLS,
says STLS and then CAPA again inside TLS (fetchmail's ``capa_probe``, RFC 2595 §4)
before USER; a server without STLS fails the session, ``mail.163.com: upgrade to TLS
failed.``, as fetchmail does when TLS is required (``--sslproto``). A finished handshake
is fetchmail's ``SSL/TLS: using protocol TLSv1.3, cipher …, 256/256 secret/processed
bits``; a refused certificate its ``Server certificate verification error: …`` and
``OpenSSL reported: error:0A000086:SSL routines::certificate verify failed``.

Transcript marks: ``C`` sent, ``S`` received, ``!`` fetchmail's own report, ``=`` its
information (inside TLS ``c`` and ``s``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from netsim.proto.mail.lines import shown
from netsim.proto.mail.tls_session import TlsStarted, cipher_bits, openssl_error
from netsim.proto.stream import Close, Failed, LineBuffer, Send, StartTls, StreamEngine

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
                 seen: set[str] | None = None, server: str = "", timeout: float = 300.0,
                 starttls: bool = False, tls: bool = False) -> None:
        super().__init__()
        self.starttls = starttls and not tls
        self.implicit_tls = tls
        self.secure = tls
        self.tls_info = None
        self.tls_error = None
        #: What the glue may give: a zero-argument callable → (TlsInfo, subject).
        self.describe_tls = None
        self.capabilities: list[str] = []
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
        if self.implicit_tls and self.describe_tls is not None:
            self._secured(self.describe_tls()[0])       # POP3S: the handshake came first

    # -- TLS ---------------------------------------------------------------------------------

    def tls_ready(self, now: float, info) -> None:
        """STLS's handshake is done: fetchmail's line, then CAPA again (capa_probe)."""
        self.secure = True
        self._secured(info)
        self.transcript.append(("=", f"{self.server}: upgrade to TLS succeeded."))
        self._deadline = now + self.timeout
        self._command("CAPA", True)

    def _secured(self, info) -> None:
        self.tls_info = info
        if info is not None:
            bits = cipher_bits(info.cipher)
            self.transcript.append(("=", f"SSL/TLS: using protocol {info.version}, cipher "
                                         f"{info.cipher}, {bits}/{bits} secret/processed bits"))
        self._out.append(TlsStarted(info))

    def tls_failed(self, error, now: float) -> None:
        """fetchmail's report of a handshake that failed (socket.c's SSLOpen)."""
        if self.finished:
            return
        self.tls_error = error
        if getattr(error, "kind", None) == "certificate":
            self.transcript.append(("!", "Server certificate verification error: "
                                         f"{error.verify_message}"))
        self.transcript.append(("!", f"OpenSSL reported: {openssl_error(error)}"))
        self._fail(f"{self.server}: upgrade to TLS failed." if not self.implicit_tls
                   else "SSL connection failed.")
        self.finished = True
        self._out.append(Failed(self.error))

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
        self.transcript.append(("s" if self.secure else "S", shown(text)))
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
        if verb == "greeting" and self.starttls:
            self._command("CAPA", True)
        elif verb == "CAPA":
            self.capabilities = [line.decode("utf-8", "replace").split(" ")[0].upper()
                                 for line in body or []]
            if self.secure:
                self._login()
            elif "STLS" in self.capabilities:
                self._command("STLS")
            else:
                self._fail(f"{self.server}: upgrade to TLS failed.")    # STLS required
                self._quit()
            return
        elif verb == "STLS":
            self._waiting = None
            self._out.append(StartTls())
            return
        elif verb == "greeting":
            self._login()
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

    def _login(self) -> None:
        self._command(f"USER {self.user}")
        self._queue += [(f"PASS {self.password}", False), ("STAT", False), ("UIDL", True)]

    def _command(self, command: str, multi: bool = False) -> None:
        self._waiting = (command, multi)
        shown_as = "PASS ********" if command.startswith("PASS ") else command
        self.transcript.append(("c" if self.secure else "C", shown_as))
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
