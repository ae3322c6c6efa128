"""An IMAP client (RFC 3501), sans-I/O: a list of actions a person takes in a mail
program (``list``, ``headers``, ``open 1``, ``flag 1 \\Flagged``, ``move 1 Archive``,
``create Archive``, ``delete 1``, ``expunge``, ``noop``) run after LOGIN and SELECT
INBOX, then LOGOUT; what the server said is kept per message.
"""

from __future__ import annotations

from email.header import decode_header, make_header

from netsim.proto.mail.imap_syntax import ImapSyntaxError, complete, parse, quote
from netsim.proto.stream import Close, Send

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


class ImapClient:
    """LOGIN, SELECT INBOX, the actions, LOGOUT — one command at a time, tagged A001…"""

    def __init__(self, user: str, password: str, actions: list[str]) -> None:
        self._commands = [f"LOGIN {quote(user).decode()} {quote(password).decode()}",
                          "SELECT INBOX"] + [action_commands(a) for a in actions] + ["LOGOUT"]
        self._buffer = bytearray()
        self._out: list = []
        self._tag_number = 0
        self._waiting: str | None = None
        self._started = False
        self.transcript: list[tuple[str, str]] = []
        self.folders: list[str] = []
        #: message number → what the client knows: subject, from, flags, and the body
        #: bytes if it fetched them.
        self.messages: dict[int, dict] = {}
        self.bytes_downloaded = 0
        self.errors: list[str] = []
        self.finished = False

    def receive(self, data: bytes) -> None:
        self._buffer += data
        while True:
            response = complete(self._buffer)
            if response is None:
                return
            self.bytes_downloaded += len(response)
            self._response(response)

    def connection_lost(self) -> None:
        if not self.finished:
            self.errors.append("connection closed before LOGOUT completed")
            self.finished = True

    def _response(self, data: bytes) -> None:
        shown = data.split(b"\r\n", 1)[0].decode("utf-8", "replace")
        literal = data.count(b"\r\n") > 1
        self.transcript.append(("S", (shown[:100] + ("…" if len(shown) > 100 else ""))
                                + (f" <{len(data)} bytes>" if literal else "")))
        try:
            words = parse(data)
        except ImapSyntaxError as exc:
            self.errors.append(f"unreadable response: {exc}")
            return
        if not words:
            return
        if words[0] == "*":
            self._untagged(words[1:])
            if not self._started:
                self._started = True
                self._next()
            return
        if words[0] == self._waiting:
            status = str(words[1]).upper() if len(words) > 1 else "BAD"
            if status != "OK":
                self.errors.append(f"{self._current}: {' '.join(str(w) for w in words[1:])}")
            self._waiting = None
            self._next()

    def _untagged(self, words: list) -> None:
        if len(words) >= 2 and str(words[1]).upper() == "FETCH" and isinstance(words[2], list):
            n = int(words[0])
            known = self.messages.setdefault(n, {})
            items = words[2]
            for key, value in zip(items[::2], items[1::2]):
                key = str(key).upper()
                if key == "FLAGS":
                    known["flags"] = sorted(str(f) for f in value)
                elif key == "ENVELOPE":
                    known["subject"] = header_text(value[1])
                    sender = (value[2] or [[None, None, None, None]])[0]
                    known["from"] = f"{header_text(sender[2])}@{header_text(sender[3])}"
                elif key in ("BODY[]", "RFC822"):
                    known["body"] = value if isinstance(value, bytes) else str(value).encode()
        elif len(words) >= 2 and str(words[1]).upper() == "EXPUNGE":
            n = int(words[0])
            self.messages = {(k if k < n else k - 1): v for k, v in self.messages.items() if k != n}
        elif words and str(words[0]).upper() == "LIST":
            self.folders.append(str(words[-1]))

    def _next(self) -> None:
        if not self._commands:
            self.finished = True
            self._out.append(Close())
            return
        command = self._commands.pop(0)
        self._tag_number += 1
        tag = f"A{self._tag_number:03d}"
        self._waiting, self._current = tag, command
        shown = command if not command.startswith("LOGIN ") else command.rsplit(" ", 1)[0] + " ********"
        self.transcript.append(("C", f"{tag} {shown}"))
        self._out.append(Send(f"{tag} {command}\r\n".encode()))

    def outputs(self) -> list:
        out, self._out = self._out, []
        return out


def header_text(value) -> str | None:
    """An ENVELOPE string as a mail client shows it: a literal's bytes as text, the
    header's folding undone (RFC 5322 §2.2.3) and RFC 2047 encoded-words decoded — a
    long or non-ASCII Subject arrives as ``=?utf-8?q?…?=`` lines, in a literal."""
    if value is None:
        return None
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
    text = text.replace("\r\n ", " ").replace("\r\n\t", "\t")
    try:
        return str(make_header(decode_header(text)))
    except (ValueError, LookupError):         # a malformed encoded-word: show it as sent
        return text
