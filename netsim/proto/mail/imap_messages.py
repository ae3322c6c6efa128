"""The IMAP commands of the selected state (RFC 3501 §6.4): CHECK, CLOSE, UNSELECT
(RFC 3691), EXPUNGE, SEARCH, FETCH, STORE, COPY, MOVE (RFC 6851) and UID, as a part of
:class:`~netsim.proto.mail.imap.ImapServerSession`.

A message set is message numbers, or under UID (§6.4.8) UIDs: ``*`` is the largest in
use, and UIDs not in the folder are passed over, as §6.4.8 says. Every FETCH response
to a UID command carries the UID. FETCH of ``BODY[…]`` (not .PEEK), RFC822 or
RFC822.TEXT sets ``\\Seen`` (§6.4.5) except in a folder opened with EXAMINE: a client
that lists headers downloads only them.
"""

from __future__ import annotations

from netsim.proto.mail import imap_fetch
from netsim.proto.mail.imap_fetch import client_flags, flag_list
from netsim.proto.mail.imap_search import BadCharset, Context, compile_search, CHARSETS
from netsim.proto.mail.imap_syntax import ImapSyntaxError, SequenceSet, arguments, sequence_set, text_of
from netsim.proto.stream import Send

#: What UID may prefix (§6.4.8, RFC 6851 §3.2).
UID_COMMANDS = ("FETCH", "STORE", "SEARCH", "COPY", "MOVE")


class MessageCommands:
    """CHECK … UID (see the module's docstring)."""

    def _numbers(self, spec, uid: bool) -> list[int]:
        """A message set → the message numbers it names, in order."""
        spec = text_of(spec)
        if not uid:
            return sequence_set(spec, len(self._view))
        uids = SequenceSet(spec)
        largest = self._view[-1].uid if self._view else 0
        return [n for n, m in enumerate(self._view, 1) if (m.uid, largest) in uids]

    # -- the folder ---------------------------------------------------------------------------

    def _cmd_check(self, tag, args) -> None:
        if self._selected(tag):
            self._tagged(tag, "OK", "CHECK completed")       # §6.4.1: nothing to flush

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

    def _cmd_unselect(self, tag, args) -> None:
        if self._selected(tag):                 # RFC 3691: CLOSE without the expunge
            self.folder, self._view = None, []
            self._tagged(tag, "OK", "UNSELECT completed")

    def _cmd_expunge(self, tag, args) -> None:
        if not self._selected(tag) or not self._writable(tag):
            return
        for n in range(len(self._view), 0, -1):
            if "\\Deleted" in self._view[n - 1].flags:
                self.folder.messages.remove(self._view[n - 1])
                self._expunged(n)
        self.store.changed(self.user, self.folder.name, self)
        self._tagged(tag, "OK", "EXPUNGE completed")

    # -- UID (§6.4.8) ----------------------------------------------------------------------------

    def _cmd_uid(self, tag, args) -> None:
        if not self._selected(tag):
            return
        arguments(args, 1)
        command = text_of(args[0]).upper() if isinstance(args[0], str) else ""
        if command not in UID_COMMANDS:
            raise ImapSyntaxError("Unknown UID command")
        getattr(self, f"_cmd_{command.lower()}")(tag, args[1:], uid=True)

    # -- SEARCH (§6.4.4) ---------------------------------------------------------------------

    def _cmd_search(self, tag, args, uid: bool = False) -> None:
        if not self._selected(tag):
            return
        try:
            test = compile_search(args)
        except BadCharset:
            return self._tagged(tag, "NO", f"[BADCHARSET ({' '.join(CHARSETS)})] "
                                           "Unsupported charset")
        largest = self._view[-1].uid if self._view else 0
        context = Context(len(self._view), largest)
        found = [str(m.uid if uid else n) for n, m in enumerate(self._view, 1)
                 if test(context.at(n, m))]
        self._untagged(" ".join(["SEARCH", *found]))
        self._tagged(tag, "OK", f"{'UID ' if uid else ''}SEARCH completed")

    # -- FETCH (§6.4.5) ------------------------------------------------------------------------

    def _cmd_fetch(self, tag, args, uid: bool = False) -> None:
        if not self._selected(tag):
            return
        arguments(args, 2, 2)
        wanted = imap_fetch.items(args[1])          # before any flag changes (§6.4.5)
        if uid and not any(item.name == "UID" for item in wanted):
            wanted.insert(0, imap_fetch.Item("UID"))
        for n in self._numbers(args[0], uid):
            message = self._view[n - 1]
            items = wanted
            if not self.read_only and any(item.sets_seen for item in wanted) and \
                    "\\Seen" not in message.flags:
                message.flags.add("\\Seen")
                self._mark_changed(message)
                if not any(item.name == "FLAGS" for item in wanted):
                    items = wanted + [imap_fetch.Item("FLAGS")]
            parts = [imap_fetch.render(message, item) for item in items]
            if any(item.name == "FLAGS" for item in items):
                self._flags_seen[id(message)] = frozenset(message.flags)
            self._out.append(Send(f"* {n} FETCH (".encode() + b" ".join(parts) + b")\r\n"))
        self._tagged(tag, "OK", f"{'UID ' if uid else ''}FETCH completed")

    # -- STORE (§6.4.6) ------------------------------------------------------------------------

    def _cmd_store(self, tag, args, uid: bool = False) -> None:
        if not self._selected(tag) or not self._writable(tag):
            return
        args = arguments(args, 3)
        mode = text_of(args[1]).upper()
        if mode not in ("FLAGS", "+FLAGS", "-FLAGS", "FLAGS.SILENT", "+FLAGS.SILENT",
                        "-FLAGS.SILENT"):
            raise ImapSyntaxError("Invalid arguments.")
        flags = client_flags(args[2] if isinstance(args[2], list) else args[2:])
        numbers = self._numbers(args[0], uid)
        for n in numbers:
            message = self._view[n - 1]
            if mode.startswith("+"):
                message.flags |= flags
            elif mode.startswith("-"):
                message.flags -= flags
            else:
                message.flags = flags | (message.flags & {"\\Recent"})
            self._mark_changed(message)
            self._flags_seen[id(message)] = frozenset(message.flags)
            if not mode.endswith(".SILENT"):
                uid_item = f"UID {message.uid} ".encode() if uid else b""
                self._out.append(Send(f"* {n} FETCH (".encode() + uid_item + b"FLAGS "
                                      + flag_list(message.flags) + b")\r\n"))
        self._tagged(tag, "OK", f"{'UID ' if uid else ''}STORE completed")

    # -- COPY and MOVE (§6.4.7, RFC 6851) --------------------------------------------------------

    def _cmd_copy(self, tag, args, uid: bool = False, move: bool = False) -> None:
        if not self._selected(tag):
            return
        args = arguments(args, 2, 2)
        name = self._folder_name(args, 1)
        target = self.store.folder(self.user, name)
        if target is None:
            return self._tagged(tag, "NO", f"[TRYCREATE] Mailbox doesn't exist: {name}")
        if move and not self._writable(tag):
            return
        numbers = self._numbers(args[0], uid)
        moved = [self._view[n - 1] for n in numbers]
        for message in moved:
            target.add(message.data, message.arrived, message.flags | {"\\Recent"})
        self.store.changed(self.user, target.name, self)
        if move:
            for n in sorted(numbers, reverse=True):
                self._expunged(n)
            self.folder.messages = [m for m in self.folder.messages if m not in moved]
            self.store.changed(self.user, self.folder.name, self)
        if target is self.folder:                 # copied into itself: EXISTS now
            self._changed = True
            self._sync(expunges=False)
        verb = "MOVE" if move else "COPY"
        self._tagged(tag, "OK", f"{'UID ' if uid else ''}{verb} completed")

    def _cmd_move(self, tag, args, uid: bool = False) -> None:
        self._cmd_copy(tag, args, uid=uid, move=True)
