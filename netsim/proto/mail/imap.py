"""IMAP (RFC 3501, with LITERAL+ RFC 7888, CHILDREN RFC 3348, MOVE RFC 6851 and UNSELECT
RFC 3691), sans-I/O: the server session.

The session has the states of RFC 3501 §3 and every command of §6 a mail client sends
to read a folder: in any state CAPABILITY, NOOP, LOGOUT; not authenticated LOGIN and
AUTHENTICATE PLAIN (RFC 4616) and STARTTLS (RFC 2595, below);
authenticated SELECT, EXAMINE, CREATE, DELETE, RENAME, SUBSCRIBE, UNSUBSCRIBE, LIST,
LSUB, STATUS, APPEND (:mod:`~netsim.proto.mail.imap_folders`); selected CHECK, CLOSE,
UNSELECT, EXPUNGE, SEARCH, FETCH, STORE, COPY, MOVE and UID FETCH/STORE/SEARCH/COPY/MOVE
(:mod:`~netsim.proto.mail.imap_messages`). CAPABILITY names those extensions and
nothing else.

Folders and flags live in the server's :class:`~netsim.proto.mail.store.MailStore`, so
every client sees the same ones: when another session or a delivery changes the selected
folder, the next response carries untagged ``EXISTS``, ``FETCH (FLAGS …)`` and — not
during FETCH, STORE or SEARCH (§7.4.1) — ``EXPUNGE`` updates; a session whose selected
folder another deleted is told ``* BYE`` as Dovecot tells it.

It is a :class:`~netsim.proto.stream.LineServer` whose "lines" are whole tagged
commands (a line and its literals, from :class:`~netsim.proto.mail.imap_syntax.ImapReader`):
``+ OK`` before each synchronizing literal (§7.5) — APPEND's message may be up to
:data:`APPEND_LIMIT`, any other literal :data:`LITERAL_LIMIT` — none before a
``{n+}`` one, and ``* BYE Literal size too large`` past the limit. A peer's mistakes
are answered as Dovecot answers them: ``a1 BAD Error in IMAP command FROB: Unknown
command.``; before LOGIN one list per command (``a1 BAD Too many '('``, as Dovecot's
imap-login) and three bad commands, after it twenty, then ``* BYE Too many invalid IMAP
commands.``.

TLS (RFC 2595, RFC 8314) as Dovecot's imap-login has it: ``tls=True`` is IMAPS on 993;
``starttls=True`` advertises ``STARTTLS`` before LOGIN and answers it ``OK Begin TLS
negotiation now.``, dropping whatever the client sent after it; the client asks
CAPABILITY again inside TLS (RFC 3501 §6.2.1). Without TLS configured STARTTLS is ``BAD
TLS support isn't enabled.``; inside TLS ``BAD TLS is already active.``
``auth_needs_tls`` is Dovecot's ``disable_plaintext_auth = yes``: before TLS the
capabilities say ``LOGINDISABLED`` instead of ``AUTH=PLAIN`` (RFC 3501 §6.2.3) and LOGIN
or AUTHENTICATE is ``NO [PRIVACYREQUIRED] Plaintext authentication disallowed on
non-secure (SSL/TLS) connections.``

Its client is :class:`~netsim.proto.mail.imap_client.ImapClient`.
"""

from __future__ import annotations

import base64
import binascii
import re

from netsim.proto.mail.imap_fetch import SYSTEM_FLAGS, envelope, flag_list, imap_date
from netsim.proto.mail.imap_folders import FolderCommands
from netsim.proto.mail.imap_messages import MessageCommands
from netsim.proto.mail.imap_syntax import (CONTINUE, ImapReader, ImapSyntaxError, LiteralTooBig,
                                           arguments, parse, text_of)
from netsim.proto.mail.store import MailStore
from netsim.proto.mail.tls_session import TlsServerSession
from netsim.proto.stream import Close, LineServer, Send

__all__ = ["CAPABILITIES", "ImapServerSession", "envelope", "flag_list", "imap_date"]

#: What the server has (RFC 3501 §7.2.1), after LOGIN; before it, AUTH=PLAIN as well.
CAPABILITIES = "IMAP4rev1 LITERAL+ CHILDREN MOVE UNSELECT"
PRE_LOGIN_CAPABILITIES = CAPABILITIES + " AUTH=PLAIN"
PLAINTEXT_DISALLOWED = ("[PRIVACYREQUIRED] Plaintext authentication disallowed on non-secure "
                        "(SSL/TLS) connections.")
#: A command line, and a literal in it; APPEND's literal is a whole message.
LINE_LIMIT = 8192
LITERAL_LIMIT = 8192
APPEND_LIMIT = 10 * 1024 * 1024
#: Dovecot's limits: imap-login's before LOGIN, imap's after.
MAX_ERRORS_BEFORE_LOGIN, MAX_ERRORS = 3, 20
MAX_LISTS_BEFORE_LOGIN, MAX_LISTS = 1, 64
#: RFC 3501 §9 tag: ASTRING-CHARs but "+" (Dovecot allows 100 of them).
_TAG = re.compile(rb"[!#$&',\-./0-9:;<=>?@A-Z\[\]^_`a-z|}~]{1,100}")
#: Commands that may not be told of expunges (§7.4.1); their UID forms may.
_NO_EXPUNGES = {"FETCH", "STORE", "SEARCH", "COPY", "MOVE"}


class ImapServerSession(TlsServerSession, FolderCommands, MessageCommands, LineServer):
    MAX_ERRORS = MAX_ERRORS_BEFORE_LOGIN

    def __init__(self, store: MailStore, hostname: str, now: float = 0.0, *,
                 append_limit: int = APPEND_LIMIT, starttls: bool = False, tls: bool = False,
                 auth_needs_tls: bool = False) -> None:
        super().__init__()
        self._append_limit = append_limit
        self._lines = self._new_reader()
        self._init_tls(starttls=starttls, tls=tls)
        self.auth_needs_tls = auth_needs_tls
        self.store = store
        self.hostname = hostname
        self.now = now
        self.user: str | None = None
        self.folder = None
        self.read_only = False
        self._view: list = []                     # the messages as this client numbers them
        self._flags_seen: dict[int, frozenset] = {}
        self._changed = False
        self._sasl_tag: str | None = None         # AUTHENTICATE waiting for its response
        store.watchers.append(self._on_change)

    def start(self, now: float) -> None:
        self.start_secure()
        self._out.append(Send(f"* OK [CAPABILITY {self._capabilities()}] {self.hostname} "
                              "IMAP4rev1 server ready\r\n".encode()))

    def _capabilities(self) -> str:
        """What it has now: after LOGIN the command set; before it STARTTLS (if TLS can
        start) and AUTH=PLAIN, or LOGINDISABLED while a password may not be sent."""
        if self.user:
            return CAPABILITIES
        words = [CAPABILITIES]
        if self.starttls_offered and not self.secure:
            words.append("STARTTLS")
        words.append("AUTH=PLAIN" if self._plaintext_ok else "LOGINDISABLED")
        return " ".join(words)

    @property
    def _plaintext_ok(self) -> bool:
        return self.secure or not self.auth_needs_tls

    # -- TLS ----------------------------------------------------------------------------------

    def receive(self, data: bytes, now: float) -> None:
        """LineServer's loop, stopping at STARTTLS: the rest is dropped unread."""
        self.now = now
        items = self._lines.feed(data)
        for n, item in enumerate(items):
            if self.closed:
                return
            if self._upgrading:
                self._drop_pending(len(items) - n)
                return
            self.line(item)
        if self._upgrading:
            self._drop_pending()

    def _new_reader(self) -> ImapReader:
        return ImapReader(line_limit=LINE_LIMIT, literal_limit=LITERAL_LIMIT,
                          append_limit=self._append_limit)

    def _forget_for_tls(self) -> None:
        self._sasl_tag = None

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
        elif self._sasl_tag is not None:
            self._sasl_response(item)
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
        self._sync(expunges=verb not in _NO_EXPUNGES)
        if self.closed:
            return
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
        self._untagged(f"CAPABILITY {self._capabilities()}")
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
        args = arguments(args, 2)
        self._authenticate(tag, text_of(args[0]), text_of(args[1]))

    def _cmd_authenticate(self, tag, args) -> None:
        """AUTHENTICATE PLAIN (RFC 3501 §6.2.2, RFC 4616): ``+`` and the client's
        base64 response; an initial response on the command line is taken too (SASL-IR,
        RFC 4959, as Dovecot takes it)."""
        if self.user is not None:
            return self._bad(tag, "already logged in")
        args = arguments(args, 1, 2)
        if text_of(args[0]).upper() != "PLAIN":
            return self._tagged(tag, "NO", "Unsupported authentication mechanism.")
        if len(args) == 2:
            return self._sasl_plain(tag, text_of(args[1]).encode())
        self._sasl_tag = tag
        self._out.append(Send(b"+ \r\n"))

    def _sasl_response(self, line: bytes) -> None:
        tag, self._sasl_tag = self._sasl_tag, None
        response = line.strip()
        if response == b"*":                             # §6.2.2: the client cancels
            return self._bad(tag, "Authentication aborted by client.")
        self._sasl_plain(tag, response)

    def _sasl_plain(self, tag: str, response: bytes) -> None:
        try:
            _authzid, user, password = base64.b64decode(response, validate=True).split(b"\0")
            user_text, password_text = user.decode(), password.decode()
        except (binascii.Error, ValueError, UnicodeDecodeError):
            return self._bad(tag, "Invalid base64 data in continued response")
        self._authenticate(tag, user_text, password_text)

    def _authenticate(self, tag: str, user: str, password: str) -> None:
        if not self._plaintext_ok:
            return self._tagged(tag, "NO", PLAINTEXT_DISALLOWED)
        if not self.store.check_password(user, password):
            return self._tagged(tag, "NO", "[AUTHENTICATIONFAILED] invalid credentials")
        self.user = user
        self.MAX_ERRORS, self._errors = MAX_ERRORS, 0     # imap's limit from here on
        self._tagged(tag, "OK", f"[CAPABILITY {CAPABILITIES}] Logged in")

    def _cmd_starttls(self, tag, args) -> None:
        """RFC 3501 §6.2.1, in Dovecot's words (login-common's client_cmd_starttls); after
        LOGIN the imap process knows no such command."""
        if self.user is not None:
            return self._syntax_error(tag, "STARTTLS", "Unknown command.")
        if self.secure:
            return self._bad(tag, "TLS is already active.")
        if not self.starttls_offered:
            return self._bad(tag, "TLS support isn't enabled.")    # Dovecot without ssl = yes
        self._tagged(tag, "OK", "Begin TLS negotiation now.")
        self._begin_tls()

    # -- selecting (§6.3.1, §6.3.2) ------------------------------------------------------------

    def _cmd_select(self, tag, args, read_only: bool = False) -> None:
        if not self._logged_in(tag):
            return
        name = text_of(arguments(args, 1, 1)[0])
        folder = self.store.folder(self.user, name)
        self.folder, self._view = None, []        # §6.3.1: a failed SELECT leaves none
        if folder is None:
            return self._tagged(tag, "NO", f"[NONEXISTENT] Mailbox doesn't exist: {name}")
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
        unseen = next((n for n, m in enumerate(self._view, 1) if "\\Seen" not in m.flags), None)
        if unseen is not None:                   # §6.3.1: the first unseen message
            self._untagged(f"OK [UNSEEN {unseen}] first unseen")
        self._untagged(f"OK [UIDVALIDITY {folder.uidvalidity}] UIDs valid")
        self._untagged(f"OK [UIDNEXT {folder.uidnext}] predicted next UID")
        mode = "READ-ONLY" if read_only else "READ-WRITE"
        self._tagged(tag, "OK", f"[{mode}] {'EXAMINE' if read_only else 'SELECT'} completed")

    def _cmd_examine(self, tag, args) -> None:
        self._cmd_select(tag, args, read_only=True)

    # -- updates (§7.3.1, §7.4.1) -----------------------------------------------------------

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
        if self.store.folder(self.user, self.folder.name) is not self.folder:
            return self._bye("Selected mailbox was deleted, have to disconnect.")
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
            self._flags_seen.update((id(m), frozenset(m.flags)) for m in new)
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
