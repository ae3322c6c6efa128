"""The IMAP commands of the authenticated state that work on folders (RFC 3501 §6.3.3–
§6.3.11): CREATE, DELETE, RENAME, SUBSCRIBE, UNSUBSCRIBE, LIST, LSUB, STATUS and APPEND,
as a part of :class:`~netsim.proto.mail.imap.ImapServerSession` (whose helpers —
``_tagged``, ``_logged_in``, ``_sync`` — they use). Refusals carry RFC 5530's response
codes in Dovecot's words (``NO [NONEXISTENT] Mailbox doesn't exist: Archive``).

LIST and LSUB patterns (§6.3.8): ``*`` matches any characters, ``%`` any but the
hierarchy delimiter ``/``; the reference is put before the pattern; INBOX matches in any
case. LIST gives each folder ``\\HasChildren`` or ``\\HasNoChildren`` (RFC 3348); LSUB the
subscribed ones, with no attributes, as Dovecot gives them.
"""

from __future__ import annotations

import datetime
import re

from netsim.proto.mail.imap_fetch import client_flags
from netsim.proto.mail.imap_syntax import ImapSyntaxError, arguments, quote, text_of
from netsim.proto.mail.store import DELIMITER, FolderError
from netsim.proto.stream import Send
from netsim.proto.wallclock import EPOCH

STATUS_ITEMS = ("MESSAGES", "RECENT", "UIDNEXT", "UIDVALIDITY", "UNSEEN")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
#: §9 date-time: "17-Jul-1996 02:44:25 -0700" (the day may be " 7").
_DATE_TIME = re.compile(r" ?([0-9]{1,2})-([A-Za-z]{3})-([0-9]{4}) ([0-9]{2}):([0-9]{2}):([0-9]{2}) "
                        r"([+-])([0-9]{2})([0-9]{2})", re.ASCII)


def pattern_regex(pattern: str) -> re.Pattern:
    """A LIST pattern as a regular expression (§6.3.8)."""
    out = []
    for char in pattern:
        out.append(".*" if char == "*" else f"[^{re.escape(DELIMITER)}]*" if char == "%"
                   else re.escape(char))
    return re.compile("".join(out), re.DOTALL)


def listed(name: str, regex: re.Pattern) -> bool:
    if name == "INBOX":                                   # §5.1: INBOX in any case
        return re.compile(regex.pattern, re.DOTALL | re.IGNORECASE).fullmatch(name) is not None
    return regex.fullmatch(name) is not None


def internal_date(text: str) -> float:
    """APPEND's date-time → seconds of simulated time (the run starts at the epoch)."""
    match = _DATE_TIME.fullmatch(text)
    month = match.group(2).capitalize() if match else ""
    if match is None or month not in _MONTHS:
        raise ImapSyntaxError("Invalid date-time")
    day, year, hour, minute, second = (int(match.group(i)) for i in (1, 3, 4, 5, 6))
    offset = datetime.timedelta(hours=int(match.group(8)), minutes=int(match.group(9)))
    try:
        zone = datetime.timezone(offset if match.group(7) == "+" else -offset)
        when = datetime.datetime(year, _MONTHS.index(month) + 1, day, hour, minute, second,
                                 tzinfo=zone)
    except ValueError:
        raise ImapSyntaxError("Invalid date-time") from None
    return when.timestamp() - EPOCH


class FolderCommands:
    """CREATE … APPEND (see the module's docstring)."""

    def _folder_name(self, args, index: int = 0) -> str:
        name = text_of(args[index])
        if name.upper() == "INBOX":
            return "INBOX"
        if not name or name.startswith(DELIMITER) or DELIMITER * 2 in name or \
                any(c in name for c in "\r\n\0*%"):
            raise ImapSyntaxError("Invalid mailbox name")
        return name.rstrip(DELIMITER)

    def _cmd_create(self, tag, args) -> None:
        if not self._logged_in(tag):
            return
        arguments(args, 1, 1)
        name = self._folder_name(args)
        if self.store.folder(self.user, name) is not None:
            return self._tagged(tag, "NO", "[ALREADYEXISTS] Mailbox already exists")
        self.store.create(self.user, name)
        self._tagged(tag, "OK", "CREATE completed")

    def _cmd_delete(self, tag, args) -> None:
        if not self._logged_in(tag):
            return
        arguments(args, 1, 1)
        name = self._folder_name(args)
        folder = self.store.folder(self.user, name)
        try:
            self.store.delete(self.user, name)
        except FolderError as exc:
            return self._tagged(tag, "NO", str(exc))
        if folder is self.folder:                # this session's own: it is closed
            self.folder, self._view = None, []
        self.store.subscribed[self.user].discard(folder.name)
        self._tagged(tag, "OK", "DELETE completed")

    def _cmd_rename(self, tag, args) -> None:
        if not self._logged_in(tag):
            return
        arguments(args, 2, 2)
        old, new = self._folder_name(args, 0), self._folder_name(args, 1)
        if new == "INBOX":
            return self._tagged(tag, "NO", "[ALREADYEXISTS] Target mailbox already exists")
        try:
            self.store.rename(self.user, old, new)
        except FolderError as exc:
            return self._tagged(tag, "NO", str(exc))
        self._tagged(tag, "OK", "RENAME completed")

    def _cmd_subscribe(self, tag, args) -> None:
        if not self._logged_in(tag):
            return
        arguments(args, 1, 1)
        folder = self.store.folder(self.user, self._folder_name(args))
        if folder is None:                        # §6.3.6: a server MAY check it exists
            return self._tagged(tag, "NO", "[NONEXISTENT] Mailbox doesn't exist: "
                                           f"{self._folder_name(args)}")
        self.store.subscribed[self.user].add(folder.name)
        self._tagged(tag, "OK", "SUBSCRIBE completed")

    def _cmd_unsubscribe(self, tag, args) -> None:
        if not self._logged_in(tag):
            return
        arguments(args, 1, 1)
        name = self._folder_name(args)
        subscribed = self.store.subscribed[self.user]
        if name not in subscribed:
            return self._tagged(tag, "NO", f"Mailbox isn't subscribed: {name}")
        subscribed.discard(name)
        self._tagged(tag, "OK", "UNSUBSCRIBE completed")

    def _cmd_list(self, tag, args, *, verb: str = "LIST") -> None:
        if not self._logged_in(tag):
            return
        arguments(args, 2, 2)
        reference, pattern = text_of(args[0]), text_of(args[1])
        if pattern == "":                          # §6.3.8: the delimiter and the root
            self._untagged(f'{verb} (\\Noselect) "{DELIMITER}" ""')
            return self._tagged(tag, "OK", f"{verb} completed")
        regex = pattern_regex(reference + pattern)
        folders = self.store.folders[self.user]
        names = list(folders) if verb == "LIST" else \
            [n for n in folders if n in self.store.subscribed[self.user]]
        for name in names:
            if listed(name, regex):
                children = any(other.startswith(name + DELIMITER) for other in folders)
                flags = "" if verb == "LSUB" else "\\HasChildren" if children else "\\HasNoChildren"
                self._out.append(Send(f'* {verb} ({flags}) "{DELIMITER}" '.encode() + quote(name)
                                      + b"\r\n"))
        self._tagged(tag, "OK", f"{verb} completed")

    def _cmd_lsub(self, tag, args) -> None:
        self._cmd_list(tag, args, verb="LSUB")

    def _cmd_status(self, tag, args) -> None:
        if not self._logged_in(tag):
            return
        arguments(args, 2, 2)
        name = self._folder_name(args)
        wanted = args[1] if isinstance(args[1], list) else None
        if not wanted or any(text_of(w).upper() not in STATUS_ITEMS for w in wanted):
            raise ImapSyntaxError("Invalid status item")
        folder = self.store.folder(self.user, name)
        if folder is None:
            return self._tagged(tag, "NO", f"[NONEXISTENT] Mailbox doesn't exist: {name}")
        counts = {"MESSAGES": len(folder.messages),
                  "RECENT": sum(1 for m in folder.messages if "\\Recent" in m.flags),
                  "UIDNEXT": folder.uidnext, "UIDVALIDITY": folder.uidvalidity,
                  "UNSEEN": sum(1 for m in folder.messages if "\\Seen" not in m.flags)}
        listed_items = " ".join(f"{w.upper()} {counts[w.upper()]}" for w in map(text_of, wanted))
        self._out.append(Send(b"* STATUS " + quote(folder.name) + f" ({listed_items})\r\n".encode()))
        self._tagged(tag, "OK", "STATUS completed")

    def _cmd_append(self, tag, args) -> None:
        """§6.3.11: APPEND mailbox [(flags)] [date-time] message."""
        if not self._logged_in(tag):
            return
        arguments(args, 2, 4)
        name = self._folder_name(args)
        rest = args[1:]
        flags = set()
        if isinstance(rest[0], list):
            flags = client_flags(rest.pop(0))
        arrived = self.now
        if len(rest) == 2:
            arrived = internal_date(text_of(rest.pop(0)))
        if len(rest) != 1 or not isinstance(rest[0], (bytes, str)):
            raise ImapSyntaxError("Invalid arguments.")
        data = rest[0] if isinstance(rest[0], bytes) else rest[0].encode()
        folder = self.store.folder(self.user, name)
        if folder is None:                          # §6.3.11: the client may CREATE it
            return self._tagged(tag, "NO", f"[TRYCREATE] Mailbox doesn't exist: {name}")
        if not data:
            return self._tagged(tag, "NO", "Can't save a zero byte message.")
        folder.add(data, arrived, flags | {"\\Recent"})
        self.store.changed(self.user, folder.name, self)
        if folder is self.folder:                   # its own folder: EXISTS now (§7.3.1)
            self._changed = True
            self._sync(expunges=False)
        self._tagged(tag, "OK", "APPEND completed")
