"""IMAP (RFC 3501, with MOVE from RFC 6851 as RFC 9051 has it), sans-I/O.

The server session has the states of RFC 3501 §3: not authenticated (LOGIN),
authenticated (LIST, CREATE, SELECT, EXAMINE), selected (FETCH, STORE, COPY, MOVE,
EXPUNGE, CLOSE) and logout. Folders and flags live in the server's
:class:`~netsim.proto.mail.store.MailStore`, so every client sees the same ones:
when another session or a delivery changes the selected folder, the next response
carries untagged ``EXISTS``, ``FETCH (FLAGS …)`` and — not during FETCH, STORE or
COPY (§7.4.1) — ``EXPUNGE`` updates. FETCH of ``BODY[]`` sets ``\\Seen`` (§6.4.5);
``BODY.PEEK[]`` and ENVELOPE do not: a client that lists headers downloads only them.

It is a :class:`~netsim.proto.stream.LineServer` whose "lines" are whole tagged
commands (a line and its literals, from :class:`~netsim.proto.mail.imap_syntax.ImapReader`)
and answers a peer's mistakes as Dovecot does: ``a1 BAD Error in IMAP command FROB:
Unknown command.``; before LOGIN one list per command (``a1 BAD Too many '('``, as
Dovecot's imap-login) and three bad commands, after it twenty, then ``* BYE Too many
invalid IMAP commands.``; ``+ OK`` before a synchronizing literal, and ``* BYE Literal
size too large`` for one past the limit.

Its client is :class:`~netsim.proto.mail.imap_client.ImapClient`.
"""

from __future__ import annotations

import fnmatch
import re
import time
from email import message_from_bytes, policy

from netsim.proto.mail.headers import addresses as addresses_of
from netsim.proto.mail.imap_syntax import (CONTINUE, ImapReader, ImapSyntaxError, LiteralTooBig,
                                           parse, quote, sequence_set)
from netsim.proto.mail.store import MailStore
from netsim.proto.stream import Close, LineServer, Send
from netsim.proto.wallclock import utc

CAPABILITIES = "IMAP4rev1 MOVE LITERAL+"
SYSTEM_FLAGS = ("\\Answered", "\\Flagged", "\\Deleted", "\\Seen", "\\Draft")
#: A command line, and a literal in it (no command here needs a large one: no APPEND).
LINE_LIMIT = 8192
LITERAL_LIMIT = 8192
#: Dovecot's limits: imap-login's before LOGIN, imap's after.
MAX_ERRORS_BEFORE_LOGIN, MAX_ERRORS = 3, 20
MAX_LISTS_BEFORE_LOGIN, MAX_LISTS = 1, 64
FETCH_ITEMS = {"FLAGS", "UID", "RFC822.SIZE", "INTERNALDATE", "ENVELOPE", "BODY[]", "BODY.PEEK[]",
               "RFC822", "BODY[HEADER]", "BODY.PEEK[HEADER]", "RFC822.HEADER", "BODY[TEXT]",
               "BODY.PEEK[TEXT]"}
#: RFC 3501 §9 tag: ASTRING-CHARs but "+" (Dovecot allows 100 of them).
_TAG = re.compile(rb"[!#$&',\-./0-9:;<=>?@A-Z\[\]^_`a-z|}~]{1,100}")


def imap_date(seconds: float) -> str:
    return time.strftime("%d-%b-%Y %H:%M:%S +0000", utc(seconds))


def flag_list(flags) -> bytes:
    return b"(" + " ".join(sorted(flags)).encode() + b")"


def envelope(data: bytes) -> bytes:
    """RFC 3501 §7.4.2's ENVELOPE: date, subject, from, sender, reply-to, to, cc, bcc,
    in-reply-to, message-id — addresses as (name NIL mailbox host)."""
    msg = message_from_bytes(data, policy=policy.compat32)

    def addresses(*fields):
        values = [v for f in fields for v in msg.get_all(f, [])]
        if not values:
            return None
        out = []
        for name, address in addresses_of(values):
            mailbox, _, host = address.partition("@")
            out.append([name or None, None, mailbox or None, host or None])
        return out

    sender = addresses("Sender") or addresses("From")
    return quote([msg.get("Date"), msg.get("Subject"), addresses("From"), sender,
                  addresses("Reply-To") or addresses("From"), addresses("To"), addresses("Cc"),
                  addresses("Bcc"), msg.get("In-Reply-To"), msg.get("Message-ID")])


def _text(value) -> str:
    """An astring argument (atom, quoted string or literal) as text; a list or NIL
    where a string belongs is a syntax error."""
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    raise ImapSyntaxError("Invalid arguments.")


def _arguments(args: list, count: int) -> list:
    if len(args) < count:
        raise ImapSyntaxError("Missing arguments.")
    return args


class ImapServerSession(LineServer):
    MAX_ERRORS = MAX_ERRORS_BEFORE_LOGIN

    def __init__(self, store: MailStore, hostname: str, now: float = 0.0) -> None:
        super().__init__()
        self._lines = ImapReader(line_limit=LINE_LIMIT, literal_limit=LITERAL_LIMIT)
        self.store = store
        self.hostname = hostname
        self.user: str | None = None
        self.folder = None
        self.read_only = False
        self._view: list = []                     # the messages as this client numbers them
        self._flags_seen: dict[int, frozenset] = {}
        self._changed = False
        store.watchers.append(self._on_change)

    def start(self, now: float) -> None:
        self._out.append(Send(f"* OK [CAPABILITY {CAPABILITIES}] {self.hostname} IMAP4rev1 "
                              "server ready\r\n".encode()))

    def connection_lost(self, now: float) -> None:
        self._forget()

    # -- input: the line-server hooks -------------------------------------------------------

    def line(self, item) -> None:
        """One item from the reader: a whole command, or what stands for one."""
        if item is CONTINUE:
            self._out.append(Send(b"+ OK\r\n"))
        elif isinstance(item, LiteralTooBig):
            self._bye(str(item))
        elif isinstance(item, ImapSyntaxError):
            self._bad("*", str(item))
        else:
            self._command(item)

    def too_many_errors(self) -> None:
        self._untagged("BYE Too many invalid IMAP commands.")
        self._forget()

    def _command(self, line: bytes) -> None:
        tag_match = _TAG.match(line)
        tag = tag_match.group().decode() if tag_match and line[tag_match.end():][:1] == b" " \
            else None
        try:
            words = parse(line, max_lists=MAX_LISTS if self.user else MAX_LISTS_BEFORE_LOGIN)
        except ImapSyntaxError as exc:
            return self._syntax_error(tag, self._verb_of(line), str(exc))
        if tag is None or len(words) < 2 or not isinstance(words[1], str):
            return self._bad(tag or "*", "Error in IMAP command received by server.")
        verb, args = words[1].upper(), words[2:]
        handler = getattr(self, f"_cmd_{verb.lower()}", None) if verb.isascii() and \
            verb.isalpha() else None
        if handler is None:
            return self._syntax_error(tag, verb, "Unknown command.")
        if verb not in ("FETCH", "STORE", "COPY", "MOVE"):
            self._sync(expunges=verb not in ("SEARCH",))
        else:
            self._sync(expunges=False)
        try:
            handler(tag, args)
        except ImapSyntaxError as exc:
            self._syntax_error(tag, verb, str(exc))

    @staticmethod
    def _verb_of(line: bytes) -> str | None:
        words = line.split(b" ", 2)
        if len(words) < 2 or not re.fullmatch(rb"[A-Za-z]{1,20}", words[1].strip()):
            return None
        return words[1].strip().decode().upper()

    def _syntax_error(self, tag: str | None, verb: str | None, message: str) -> None:
        """Dovecot's wording: imap-login's plain message before LOGIN, imap's
        ``Error in IMAP command VERB: …`` after."""
        if tag is None:
            return self._bad("*", "Error in IMAP command received by server.")
        if self.user is None:
            return self._bad(tag, message)
        where = f" {verb}" if verb else ""
        self._bad(tag, f"Error in IMAP command{where}: {message}")

    def _bad(self, tag: str, text: str) -> None:
        self._tagged(tag, "BAD", text)
        self.count_error()

    def _bye(self, text: str) -> None:
        self._untagged(f"BYE {text}")
        self._forget()
        self.closed = True
        self._out.append(Close(text))

    # -- any state ----------------------------------------------------------------------------

    def _cmd_capability(self, tag, args) -> None:
        self._untagged(f"CAPABILITY {CAPABILITIES}")
        self._tagged(tag, "OK", "CAPABILITY completed")

    def _cmd_noop(self, tag, args) -> None:
        self._tagged(tag, "OK", "NOOP completed")

    def _cmd_logout(self, tag, args) -> None:
        self._untagged(f"BYE {self.hostname} IMAP4rev1 server logging out")
        self._tagged(tag, "OK", "LOGOUT completed")
        self._forget()
        self.closed = True
        self._out.append(Close())

    # -- not authenticated ------------------------------------------------------------------

    def _cmd_login(self, tag, args) -> None:
        if self.user is not None:
            return self._bad(tag, "already logged in")
        args = _arguments(args, 2)
        user, password = _text(args[0]), _text(args[1])
        if not self.store.check_password(user, password):
            return self._tagged(tag, "NO", "[AUTHENTICATIONFAILED] invalid credentials")
        self.user = user
        self.MAX_ERRORS, self._errors = MAX_ERRORS, 0     # imap's limit from here on
        self._tagged(tag, "OK", f"[CAPABILITY {CAPABILITIES}] LOGIN completed")

    # -- authenticated ------------------------------------------------------------------------

    def _cmd_list(self, tag, args) -> None:
        if not self._logged_in(tag):
            return
        pattern = _text(args[1]) if len(args) > 1 else "*"
        if pattern == "":
            self._untagged('LIST (\\Noselect) "/" ""')
        for name in self.store.folders[self.user]:
            if fnmatch.fnmatchcase(name, pattern.replace("%", "*")):
                self._out.append(Send(b'* LIST (\\HasNoChildren) "/" ' + quote(name) + b"\r\n"))
        self._tagged(tag, "OK", "LIST completed")

    def _cmd_create(self, tag, args) -> None:
        if not self._logged_in(tag):
            return
        name = _text(_arguments(args, 1)[0])
        if self.store.folder(self.user, name) is not None:
            return self._tagged(tag, "NO", "[ALREADYEXISTS] mailbox already exists")
        self.store.create(self.user, name)
        self._tagged(tag, "OK", "CREATE completed")

    def _cmd_select(self, tag, args, read_only: bool = False) -> None:
        if not self._logged_in(tag):
            return
        folder = self.store.folder(self.user, _text(_arguments(args, 1)[0]))
        if folder is None:
            self.folder = None
            return self._tagged(tag, "NO", "[NONEXISTENT] no such mailbox")
        self.folder, self.read_only = folder, read_only
        self._view = list(folder.messages)
        recent = sum(1 for m in self._view if "\\Recent" in m.flags)
        if not read_only:                        # §2.3.2: the first session to see them
            for m in self._view:
                m.flags.discard("\\Recent")
        self._flags_seen = {id(m): frozenset(m.flags) for m in self._view}
        self._untagged(f"{len(self._view)} EXISTS")
        self._untagged(f"{recent} RECENT")
        self._untagged("FLAGS (" + " ".join(SYSTEM_FLAGS) + ")")
        self._untagged(f"OK [PERMANENTFLAGS ({' '.join(SYSTEM_FLAGS)})] flags permitted")
        self._untagged(f"OK [UIDVALIDITY {folder.uidvalidity}] UIDs valid")
        self._untagged(f"OK [UIDNEXT {folder.uidnext}] predicted next UID")
        mode = "READ-ONLY" if read_only else "READ-WRITE"
        self._tagged(tag, "OK", f"[{mode}] {'EXAMINE' if read_only else 'SELECT'} completed")

    def _cmd_examine(self, tag, args) -> None:
        self._cmd_select(tag, args, read_only=True)

    # -- selected -----------------------------------------------------------------------------

    def _cmd_fetch(self, tag, args) -> None:
        if not self._selected(tag):
            return
        args = _arguments(args, 2)
        numbers = sequence_set(_text(args[0]), len(self._view))
        items = args[1] if isinstance(args[1], list) else [args[1]]
        items = [_text(i).upper() for i in items]
        macros = {"ALL": ["FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE"],
                  "FAST": ["FLAGS", "INTERNALDATE", "RFC822.SIZE"],
                  "FULL": ["FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE"]}
        if len(items) == 1 and items[0] in macros:
            items = macros[items[0]]
        for item in items:
            if item not in FETCH_ITEMS:            # before any flag changes (§6.4.5)
                raise ImapSyntaxError(f"Unknown parameter {item[:40]}")
        for n in numbers:
            message = self._view[n - 1]
            parts: list[bytes] = []
            for item in items:
                if item in ("BODY[]", "RFC822") and not self.read_only:
                    if "\\Seen" not in message.flags:
                        message.flags.add("\\Seen")
                        self._mark_changed(message)
                        if "FLAGS" not in items:
                            items = items + ["FLAGS"]
            for item in items:
                parts.append(self._fetch_item(message, item))
            self._out.append(Send(f"* {n} FETCH (".encode() + b" ".join(parts) + b")\r\n"))
        self._tagged(tag, "OK", "FETCH completed")

    def _fetch_item(self, message, item: str) -> bytes:
        if item == "FLAGS":
            self._flags_seen[id(message)] = frozenset(message.flags)
            return b"FLAGS " + flag_list(message.flags)
        if item == "UID":
            return f"UID {message.uid}".encode()
        if item == "RFC822.SIZE":
            return f"RFC822.SIZE {message.size}".encode()
        if item == "INTERNALDATE":
            return b"INTERNALDATE " + quote(imap_date(message.arrived))
        if item == "ENVELOPE":
            return b"ENVELOPE " + envelope(message.data)
        if item in ("BODY[]", "BODY.PEEK[]", "RFC822"):
            name = "RFC822" if item == "RFC822" else "BODY[]"
            return name.encode() + b" " + quote(message.data)
        if item in ("BODY[HEADER]", "BODY.PEEK[HEADER]", "RFC822.HEADER"):
            name = "RFC822.HEADER" if item == "RFC822.HEADER" else "BODY[HEADER]"
            return name.encode() + b" " + quote(message.header)
        if item in ("BODY[TEXT]", "BODY.PEEK[TEXT]"):
            return b"BODY[TEXT] " + quote(message.body)
        raise ImapSyntaxError(f"Unknown parameter {item[:40]}")

    def _cmd_store(self, tag, args) -> None:
        if not self._selected(tag) or not self._writable(tag):
            return
        args = _arguments(args, 3)
        numbers = sequence_set(_text(args[0]), len(self._view))
        mode = _text(args[1]).upper()
        flags = args[2] if isinstance(args[2], list) else args[2:]
        flags = {_text(f) for f in flags}
        silent = mode.endswith(".SILENT")
        for n in numbers:
            message = self._view[n - 1]
            if mode.startswith("+"):
                message.flags |= flags
            elif mode.startswith("-"):
                message.flags -= flags
            elif mode.startswith("FLAGS"):
                message.flags = flags | (message.flags & {"\\Recent"})
            else:
                raise ImapSyntaxError("Invalid arguments.")
            self._mark_changed(message)
            self._flags_seen[id(message)] = frozenset(message.flags)
            if not silent:
                self._out.append(Send(f"* {n} FETCH (FLAGS ".encode() + flag_list(message.flags)
                                      + b")\r\n"))
        self._tagged(tag, "OK", "STORE completed")

    def _cmd_copy(self, tag, args, move: bool = False) -> None:
        if not self._selected(tag):
            return
        args = _arguments(args, 2)
        target = self.store.folder(self.user, _text(args[1]))
        if target is None:
            return self._tagged(tag, "NO", "[TRYCREATE] no such mailbox")
        if move and not self._writable(tag):
            return
        numbers = sequence_set(_text(args[0]), len(self._view))
        moved = [self._view[n - 1] for n in numbers]
        for message in moved:
            target.add(message.data, message.arrived, message.flags | {"\\Recent"})
        self.store.changed(self.user, target.name, self)
        if move:
            for n in sorted(numbers, reverse=True):
                self._expunged(n)
            self.folder.messages = [m for m in self.folder.messages if m not in moved]
            self.store.changed(self.user, self.folder.name, self)
        self._tagged(tag, "OK", f"{'MOVE' if move else 'COPY'} completed")

    def _cmd_move(self, tag, args) -> None:
        self._cmd_copy(tag, args, move=True)

    def _cmd_expunge(self, tag, args) -> None:
        if not self._selected(tag) or not self._writable(tag):
            return
        self._expunge()
        self._tagged(tag, "OK", "EXPUNGE completed")

    def _cmd_close(self, tag, args) -> None:
        if not self._selected(tag):
            return
        if not self.read_only:                  # §6.4.2: expunge silently
            gone = [m for m in self.folder.messages if "\\Deleted" in m.flags]
            self.folder.messages = [m for m in self.folder.messages if m not in gone]
            if gone:
                self.store.changed(self.user, self.folder.name, self)
        self.folder, self._view = None, []
        self._tagged(tag, "OK", "CLOSE completed")

    # -- updates (§7.3.1, §7.4.1) -----------------------------------------------------------

    def _expunge(self) -> None:
        for n in range(len(self._view), 0, -1):
            if "\\Deleted" in self._view[n - 1].flags:
                self.folder.messages.remove(self._view[n - 1])
                self._expunged(n)
        self.store.changed(self.user, self.folder.name, self)

    def _expunged(self, n: int) -> None:
        del self._view[n - 1]
        self._untagged(f"{n} EXPUNGE")

    def _on_change(self, user, folder, by) -> None:
        if by is not self and user == self.user and self.folder is not None and \
                folder.upper() == self.folder.name.upper():
            self._changed = True

    def _mark_changed(self, message) -> None:
        self.store.changed(self.user, self.folder.name, self)

    def _sync(self, *, expunges: bool) -> None:
        """Tell the client what others changed in the selected folder since it last heard."""
        if not self._changed or self.folder is None:
            return
        current = self.folder.messages
        if expunges:
            present = {id(m) for m in current}
            for n in range(len(self._view), 0, -1):
                if id(self._view[n - 1]) not in present:
                    self._expunged(n)
        known = {id(m) for m in self._view}
        new = [m for m in current if id(m) not in known]
        if new:
            self._view += new
            self._untagged(f"{len(self._view)} EXISTS")
        for n, m in enumerate(self._view, 1):
            if m in current and self._flags_seen.get(id(m)) != frozenset(m.flags):
                self._flags_seen[id(m)] = frozenset(m.flags)
                self._out.append(Send(f"* {n} FETCH (FLAGS ".encode() + flag_list(m.flags) + b")\r\n"))
        present = {id(m) for m in current}
        self._changed = any(id(m) not in present for m in self._view)   # expunges still to tell

    # -- helpers ------------------------------------------------------------------------------

    def _logged_in(self, tag) -> bool:
        if self.user is None:
            self._bad(tag, "Error in IMAP command received by server.")   # imap-login
            return False
        return True

    def _selected(self, tag) -> bool:
        if not self._logged_in(tag):
            return False
        if self.folder is None:
            self._bad(tag, "No mailbox selected.")
            return False
        return True

    def _writable(self, tag) -> bool:
        if self.read_only:
            self._tagged(tag, "NO", "[READ-ONLY] mailbox is read-only (EXAMINE)")
            return False
        return True

    def _forget(self) -> None:
        if self._on_change in self.store.watchers:
            self.store.watchers.remove(self._on_change)

    def _untagged(self, text: str) -> None:
        self._out.append(Send(f"* {text}\r\n".encode()))

    def _tagged(self, tag: str, status: str, text: str) -> None:
        self._out.append(Send(f"{tag} {status} {text}\r\n".encode()))
