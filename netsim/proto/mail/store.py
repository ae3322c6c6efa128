"""Mailboxes: one store per mail server, shared by its SMTP delivery, POP3 and IMAP
sessions (RFC 1939 §8 calls it a maildrop; RFC 3501 §2.3 gives each message a UID and
flags). Folders hold messages in arrival order; a message's bytes never change."""

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


class MailStore:
    def __init__(self, users: dict[str, str], *, uidvalidity: int = 1) -> None:
        self.passwords = dict(users)
        self._uidvalidity = uidvalidity
        self.folders: dict[str, dict[str, Folder]] = {
            user: {"INBOX": Folder("INBOX", uidvalidity)} for user in users}
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
        self._uidvalidity += 1
        folder = self.folders[user][name] = Folder(name, self._uidvalidity)
        return folder

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
