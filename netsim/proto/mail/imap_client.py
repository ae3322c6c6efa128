"""An IMAP client (RFC 3501), sans-I/O: a list of actions a person takes in a mail
program (``list``, ``headers``, ``open 1``, ``flag 1 \\Flagged``, ``move 1 Archive``,
``create Archive``, ``delete 1``, ``expunge``, ``noop``) run after LOGIN and SELECT
INBOX, then LOGOUT; what the server said is kept per message.

What the server sends is read as Python's ``imaplib`` reads it, and a server it cannot
work with fails the session in imaplib's words: a line that is neither untagged
(``*``), a continuation (``+``) nor tagged with a tag it sent is ``unexpected
response: …`` (``unexpected tagged response: …``); a greeting that is not ``OK`` (a
``* BYE``, a ``554``) ends it with that greeting; a line past 1,000,000 bytes is
``got more than 1000000 bytes``, and so is a literal past :data:`MAX_LITERAL`; the
server closing first is ``socket error: EOF``, and ``timeout`` seconds without a byte
``socket error: timed out``. A response it can read but whose data has the wrong
shape (a FETCH of ``FLAGS "x"``, an ENVELOPE of three fields) is noted, not fatal: what
could be read is kept.

TLS (RFC 3501 §6.2.1, RFC 2595, RFC 8314) as imaplib does it: ``tls=True`` is
``IMAP4_SSL`` (993, TLS from the first byte); ``starttls=True`` is ``starttls()`` before
LOGIN — ``TLS not supported by server`` when the capabilities lack STARTTLS, ``Couldn't
establish TLS session`` when the server refuses it, and CAPABILITY asked again inside
TLS. A handshake that fails is the ``ssl`` module's error, ``[SSL:
CERTIFICATE_VERIFY_FAILED] certificate verify failed: unable to get local issuer
certificate``.
"""

from __future__ import annotations

import re

from netsim.errors import PeerError
from netsim.proto.mail.tls_session import TlsStarted
from netsim.proto.mail.headers import field_text
from netsim.proto.mail.imap_syntax import CONTINUE, ImapReader, ImapSyntaxError, parse, quote
from netsim.proto.stream import Close, Failed, Send, StartTls, StreamEngine

#: imaplib's _MAXLINE.
MAX_LINE = 1_000_000
MAX_LITERAL = 64 << 20
#: Lists in one response: an ENVELOPE holds about fifteen.
MAX_LISTS = 1000

ACTIONS = ("list", "headers", "open", "flag", "unflag", "move", "copy", "create", "delete",
           "expunge", "noop", "examine", "select")


#: How many words each action needs after its name ("open 1", "move 1 Archive").
_ARITY = {"open": 1, "flag": 1, "unflag": 1, "move": 2, "copy": 2, "create": 1, "delete": 1}


def action_commands(action: str) -> str:
    """One user action → the IMAP command that does it (without a tag)."""
    word, _, rest = action.strip().partition(" ")
    word = word.lower()
    args = rest.split()
    if len(args) < _ARITY.get(word, 0):
        usage = {1: "N", 2: "N Folder"}[_ARITY[word]] if word != "create" else "Folder"
        raise ValueError(f"IMAP action {action!r} needs its arguments: '{word} {usage}'")
    if word in ("open", "flag", "unflag", "move", "copy", "delete") and \
            not all(part.isdigit() or part == "*" for part in args[0].replace(":", ",").split(",")):
        raise ValueError(f"IMAP action {action!r}: {args[0]!r} is not a message number")
    if word == "list":
        return 'LIST "" "*"'
    if word == "headers":
        return "FETCH 1:* (FLAGS ENVELOPE)"
    if word == "open":
        return f"FETCH {args[0]} (BODY[])"
    if word in ("flag", "unflag"):
        sign = "+" if word == "flag" else "-"
        return f"STORE {args[0]} {sign}FLAGS ({' '.join(args[1:]) or chr(92) + 'Flagged'})"
    if word in ("move", "copy"):
        return f"{word.upper()} {args[0]} {quote(args[1]).decode()}"
    if word == "create":
        return f"CREATE {quote(args[0]).decode()}"
    if word == "delete":
        return f"STORE {args[0]} +FLAGS (\\Deleted)"
    if word in ("select", "examine"):
        return f"{word.upper()} {quote(args[0] if args else 'INBOX').decode()}"
    if word in ("expunge", "noop"):
        return word.upper()
    raise ValueError(f"unknown IMAP action {action!r} (one of: {', '.join(ACTIONS)})")


class ImapClient(StreamEngine):
    """LOGIN, SELECT INBOX, the actions, LOGOUT — one command at a time, tagged A001…"""

    def __init__(self, user: str, password: str, actions: list[str], *,
                 timeout: float = 60.0, starttls: bool = False, tls: bool = False) -> None:
        super().__init__()
        self.starttls = starttls and not tls
        self.secure = tls
        self.tls_info = None
        self.tls_error = None
        #: What the glue may give: a zero-argument callable → (TlsInfo, subject).
        self.describe_tls = None
        self.capabilities: list[str] = []
        self._commands = (["STARTTLS"] if self.starttls else []) + [f"LOGIN {quote(user).decode()} {quote(password).decode()}",
                          "SELECT INBOX"] + [action_commands(a) for a in actions] + ["LOGOUT"]
        self._reader = ImapReader(line_limit=MAX_LINE, literal_limit=MAX_LITERAL)
        self.timeout = timeout
        self._deadline: float | None = None
        self._tag_number = 0
        self._waiting: str | None = None
        self._current = ""
        self._started = False
        self.transcript: list[tuple[str, str]] = []
        self.folders: list[str] = []
        #: message number → what the client knows: subject, from, flags, and the body
        #: bytes if it fetched them.
        self.messages: dict[int, dict] = {}
        self.bytes_downloaded = 0
        self.errors: list[str] = []
        self.finished = False

    # -- the contract ----------------------------------------------------------------------

    def start(self, now: float) -> None:
        self._deadline = now + self.timeout
        if self.secure and self.describe_tls is not None:
            self._secured(self.describe_tls()[0])       # IMAPS: the handshake came first

    def receive(self, data: bytes, now: float) -> None:
        if self.finished:
            return
        self._deadline = now + self.timeout            # a socket timeout: per read
        for item in self._reader.feed(data):
            if self.finished:
                return
            if item is CONTINUE:
                continue                               # a literal coming to us: no answer
            if isinstance(item, ImapSyntaxError):      # too long a line or literal
                limit = MAX_LINE if "line" in str(item) else MAX_LITERAL
                raise PeerError(f"got more than {limit} bytes")
            self.bytes_downloaded += len(item)
            self._response(item)

    def connection_lost(self, now: float) -> None:
        if not self.finished:
            self.finished = True
            raise PeerError("socket error: EOF")

    def get_timer(self) -> float | None:
        return None if self.finished else self._deadline

    # -- TLS ---------------------------------------------------------------------------------

    def tls_ready(self, now: float, info) -> None:
        """starttls()'s handshake is done: imaplib asks CAPABILITY again, then goes on."""
        self._secured(info)
        self._deadline = now + self.timeout
        self._commands.insert(0, "CAPABILITY")
        self._next()

    def _secured(self, info) -> None:
        """Inside TLS: the transcript says with what (imaplib prints nothing; its
        socket's ``version()`` and ``cipher()`` say this)."""
        self.secure = True
        self.tls_info = info
        if info is not None:
            self.transcript.append(("=", f"TLS: {info.version}, cipher {info.cipher}"))
        self._out.append(TlsStarted(info))

    def tls_failed(self, error, now: float) -> None:
        """The handshake failed: the ssl module's exception, as a script using imaplib
        dies of it."""
        if self.finished:
            return
        self.tls_error = error
        self.finished = True
        if getattr(error, "kind", None) == "certificate":
            message = ("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: "
                       f"{error.verify_message}")
        elif getattr(error, "kind", None) == "alert":
            reason = error.alert.upper().replace(" ", "_")
            family = "SSLV3" if error.alert in ("handshake failure", "bad certificate",
                                               "certificate expired",
                                               "certificate unknown") else "TLSV1"
            message = f"[SSL: {family}_ALERT_{reason}] {family.lower()} alert {error.alert}"
        else:
            message = str(error)
        self.errors.append(message)
        self._out.append(Failed(message))

    def handle_timer(self, now: float) -> None:
        if self.finished or self._deadline is None or now < self._deadline:
            return
        self.finished = True
        raise PeerError("socket error: timed out")

    # -- responses -------------------------------------------------------------------------

    def _response(self, data: bytes) -> None:
        first = data.split(b"\r\n", 1)[0].split(b"\n", 1)[0].decode("utf-8", "replace")
        literal = data.count(b"\r\n") > 1
        self.transcript.append(("S", (first[:100] + ("…" if len(first) > 100 else ""))
                                + (f" <{len(data)} bytes>" if literal else "")))
        head, _, rest = first.partition(" ")
        found = _CAPABILITY_CODE.search(first)
        if found is not None:
            self.capabilities = found.group(1).upper().split()
        if head == "+":
            return                                     # a continuation nobody asked for
        if head != "*" and (head != self._waiting or not self._started):
            # A tag we never sent (or a line that is no response at all): imaplib aborts.
            tagged = _TAGGED.match(first) is not None
            what = "unexpected tagged response" if tagged else "unexpected response"
            raise PeerError(f"{what}: {shown_repr(first)}")
        try:
            words = parse(data, max_lists=MAX_LISTS)
        except ImapSyntaxError as exc:
            self.errors.append(f"unreadable response: {exc}")
            return
        if head == "*":
            if not self._started:
                status = _upper(words[1]) if len(words) > 1 else ""
                if status not in ("OK", "PREAUTH"):
                    raise PeerError(first[:200])       # imaplib: error(self.welcome)
                self._started = True
                self._next()
                return
            self._untagged(words[1:])
            return
        status = _upper(words[1]) if len(words) > 1 else "BAD"
        if self._current == "STARTTLS":
            if status != "OK":
                raise PeerError("Couldn't establish TLS session")     # imaplib's words
            self._waiting = None
            self._out.append(StartTls())
            return
        if status != "OK":
            text = " ".join(w if isinstance(w, str) else "…" for w in words[1:])
            self.errors.append(f"{self._current}: {text[:200]}")
        self._waiting = None
        self._next()

    def _untagged(self, words: list) -> None:
        number = _number(words[0]) if words else None
        kind = _upper(words[1]) if len(words) > 1 else ""
        if number is not None and kind == "FETCH" and len(words) > 2 and \
                isinstance(words[2], list):
            self._fetched(number, words[2])
        elif number is not None and kind == "EXPUNGE":
            self.messages = {(k if k < number else k - 1): v
                             for k, v in self.messages.items() if k != number}
        elif words and _upper(words[0]) == "CAPABILITY":
            self.capabilities = [_upper(w) for w in words[1:] if isinstance(w, str)]
        elif words and _upper(words[0]) == "LIST" and isinstance(words[-1], (str, bytes)):
            self.folders.append(field_text(words[-1]))

    def _fetched(self, n: int, items: list) -> None:
        known = self.messages.setdefault(n, {})
        for key, value in zip(items[::2], items[1::2]):
            key = _upper(key)
            if key == "FLAGS" and isinstance(value, list) and \
                    all(isinstance(f, str) for f in value):
                known["flags"] = sorted(value)
            elif key == "ENVELOPE":
                subject, sender = _envelope(value)
                if subject is _BAD:
                    self.errors.append(f"unreadable ENVELOPE of message {n}")
                    continue
                known["subject"] = subject
                if sender is not None:
                    known["from"] = sender
            elif key in ("BODY[]", "RFC822") and isinstance(value, (bytes, str)):
                known["body"] = value if isinstance(value, bytes) else value.encode()

    def _next(self) -> None:
        if not self._commands:
            self.finished = True
            self._out.append(Close())
            return
        command = self._commands.pop(0)
        if command == "STARTTLS" and "STARTTLS" not in self.capabilities:
            raise PeerError("TLS not supported by server")            # imaplib's words
        self._tag_number += 1
        tag = f"A{self._tag_number:03d}"
        self._waiting, self._current = tag, command
        shown = command if not command.startswith("LOGIN ") else command.rsplit(" ", 1)[0] + " ********"
        self.transcript.append(("C", f"{tag} {shown}"))
        self._out.append(Send(f"{tag} {command}\r\n".encode()))


_BAD = object()
#: A response code naming the capabilities: ``* OK [CAPABILITY IMAP4rev1 …] ready``.
_CAPABILITY_CODE = re.compile(r"\[CAPABILITY ([^\]]*)\]", re.ASCII)
#: imaplib's tagre: a tag of ours (A and digits), a status word, its text.
_TAGGED = re.compile(r"A[0-9]+ [A-Z]+ ", re.ASCII)


def _upper(word) -> str:
    return word.upper() if isinstance(word, str) else ""


def _number(word) -> int | None:
    """A message number (RFC 3501 nz-number): ASCII digits, not ``²``."""
    if isinstance(word, str) and word.isascii() and word.isdigit() and len(word) <= 10:
        return int(word)
    return None


def _string(value) -> bool:
    return value is None or isinstance(value, (str, bytes))


def _envelope(value):
    """ENVELOPE's subject and first sender as ``mailbox@host`` (RFC 3501 §7.4.2), or
    ``_BAD`` when it is not shaped as one."""
    if not isinstance(value, list) or len(value) < 3 or not _string(value[1]):
        return _BAD, None
    subject = header_text(value[1])
    senders = value[2]
    if senders is None:
        return subject, "None@None"
    if not (isinstance(senders, list) and senders and isinstance(senders[0], list)
            and len(senders[0]) >= 4 and all(_string(part) for part in senders[0][:4])):
        return _BAD, None
    sender = senders[0]
    return subject, f"{header_text(sender[2])}@{header_text(sender[3])}"


def shown_repr(text: str) -> str:
    return repr(text if len(text) < 100 else text[:100] + "…")


def header_text(value) -> str | None:
    """An ENVELOPE string as a mail client shows it: a literal's bytes as text, the
    header's folding undone (RFC 5322 §2.2.3) and RFC 2047 encoded-words decoded — a
    long or non-ASCII Subject arrives as ``=?utf-8?q?…?=`` lines, in a literal."""
    if value is None:
        return None
    return field_text(value)
