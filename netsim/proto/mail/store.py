"""Mailboxes: one store per mail server, shared by its SMTP delivery, POP3 and IMAP
sessions (RFC 1939 §8 calls it a maildrop; RFC 3501 §2.3 gives each message a UID and
flags). Folders hold messages in arrival order; a message's bytes never change. Folder
names are hierarchical with ``/`` (RFC 3501 §5.1.1); ``INBOX`` is any case and cannot be
deleted; each folder's UIDVALIDITY is new whenever a name is created or renamed, so no
client can take one folder's UIDs for another's (§2.3.1.1)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from netsim.proto.mail.headers import field_text, parse_header


@dataclass(eq=False)            # a message is itself: two equal copies are two messages
class StoredMessage:
    uid: int
    data: bytes                          # the whole message, CRLF line endings
    arrived: float                       # simulated time it was delivered
    flags: set[str] = field(default_factory=set)

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def header(self) -> bytes:
        end = self.data.find(b"\r\n\r\n")
        return self.data if end < 0 else self.data[:end + 4]

    @property
    def body(self) -> bytes:
        end = self.data.find(b"\r\n\r\n")
        return b"" if end < 0 else self.data[end + 4:]


@dataclass
class Folder:
    name: str
    uidvalidity: int
    uidnext: int = 1
    messages: list[StoredMessage] = field(default_factory=list)

    def add(self, data: bytes, now: float, flags: set[str] | None = None) -> StoredMessage:
        message = StoredMessage(self.uidnext, data, now, set(flags or ()))
        self.uidnext += 1
        self.messages.append(message)
        return message


DELIMITER = "/"


class FolderError(Exception):
    """A folder operation that cannot be done; ``code`` is RFC 5530's response code."""

    def __init__(self, code: str, text: str) -> None:
        self.code, self.text = code, text
        super().__init__(f"[{code}] {text}")


class MailStore:
    def __init__(self, users: dict[str, str], *, uidvalidity: int = 1) -> None:
        self.passwords = dict(users)
        self._uidvalidity = uidvalidity
        self.folders: dict[str, dict[str, Folder]] = {
            user: {"INBOX": Folder("INBOX", uidvalidity)} for user in users}
        #: user → the folder names they subscribed to (RFC 3501 §6.3.6); INBOX at first.
        self.subscribed: dict[str, set[str]] = {user: {"INBOX"} for user in users}
        #: user → the session holding the POP3 maildrop lock (RFC 1939 §8).
        self.locks: dict[str, object] = {}
        #: Called with (user, folder name) whenever a folder changes, so IMAP sessions
        #: can send untagged updates (RFC 3501 §7.3.1, §7.4.1).
        self.watchers: list = []

    def has_user(self, user: str) -> bool:
        return user in self.folders

    def check_password(self, user: str, password: str) -> bool:
        return user in self.passwords and self.passwords[user] == password

    def folder(self, user: str, name: str) -> Folder | None:
        folders = self.folders.get(user, {})
        if name.upper() == "INBOX":
            return folders.get("INBOX")
        return folders.get(name)

    def create(self, user: str, name: str) -> Folder:
        """A new folder, and its superiors that are missing (§6.3.3: ``a/b`` makes ``a``)."""
        folders = self.folders[user]
        parts = name.split(DELIMITER)
        for i in range(1, len(parts)):
            superior = DELIMITER.join(parts[:i])
            if superior and self.folder(user, superior) is None:
                folders[superior] = Folder(superior, self._next_validity())
        folder = folders[name] = Folder(name, self._next_validity())
        return folder

    def delete(self, user: str, name: str) -> None:
        """§6.3.4: INBOX cannot go, nor (here) a folder with folders below it."""
        folder = self.folder(user, name)
        if folder is None:
            raise FolderError("NONEXISTENT", f"Mailbox doesn't exist: {name}")
        if folder.name == "INBOX":
            raise FolderError("CANNOT", "INBOX can't be deleted.")
        if any(other.startswith(folder.name + DELIMITER) for other in self.folders[user]):
            raise FolderError("CANNOT", "Mailbox has children, delete them first")
        del self.folders[user][folder.name]
        self.changed(user, folder.name, None)

    def rename(self, user: str, old: str, new: str) -> None:
        """§6.3.5: the folder and every folder below it take the new name, each with a
        new UIDVALIDITY; renaming INBOX moves its messages to the new folder and leaves
        INBOX, empty."""
        folders = self.folders[user]
        source = self.folder(user, old)
        if source is None:
            raise FolderError("NONEXISTENT", f"Mailbox doesn't exist: {old}")
        if self.folder(user, new) is not None:
            raise FolderError("ALREADYEXISTS", "Target mailbox already exists")
        if new.startswith(source.name + DELIMITER):
            raise FolderError("CANNOT", "Can't rename mailbox under its own child.")
        if source.name == "INBOX":
            target = self.create(user, new)
            target.messages, source.messages = source.messages, []
            target.uidnext = source.uidnext
            self.changed(user, "INBOX", None)
            return
        old = source.name
        moving = [name for name in folders if name == old or name.startswith(old + DELIMITER)]
        parts = new.split(DELIMITER)
        for i in range(1, len(parts)):                    # the new name's superiors
            superior = DELIMITER.join(parts[:i])
            if superior and self.folder(user, superior) is None and superior not in moving:
                folders[superior] = Folder(superior, self._next_validity())
        for name in moving:
            folder = folders.pop(name)
            folder.name = new + name[len(old):]
            folder.uidvalidity = self._next_validity()
            folders[folder.name] = folder
            self.changed(user, name, None)

    def _next_validity(self) -> int:
        self._uidvalidity += 1
        return self._uidvalidity

    def deliver(self, user: str, data: bytes, now: float) -> StoredMessage:
        message = self.folders[user]["INBOX"].add(data, now, {"\\Recent"})
        self.changed(user, "INBOX", None)
        return message

    def changed(self, user: str, folder: str, by) -> None:
        for watcher in list(self.watchers):
            watcher(user, folder, by)

    def contents(self) -> dict:
        """Every user's folders and messages, for a run's summary."""
        return {user: {name: [summary_of(m) for m in folder.messages]
                       for name, folder in folders.items()}
                for user, folders in self.folders.items()}


def summary_of(message: StoredMessage) -> dict:
    """What a run's summary says of a message. Its header is a peer's bytes: read as a
    mail program shows it (:mod:`netsim.proto.mail.headers`), never parsed as addresses,
    so no field can make the summary fail after the run."""
    header = parse_header(message.header)
    return {"uid": message.uid, "from": field_text(header.get("From")),
            "to": field_text(header.get("To")), "subject": field_text(header.get("Subject")),
            "size": message.size, "flags": sorted(message.flags),
            "received": [" ".join(field_text(r).split()) for r in header.get_all("Received", [])],
            "body_sha256": hashlib.sha256(message.body).hexdigest()}
