"""IMAP SEARCH (RFC 3501 §6.4.4): the search keys read into a predicate, then asked of
each message of the selected mailbox.

Every key of §6.4.4: ALL; the flags (ANSWERED, DELETED, DRAFT, FLAGGED, RECENT, SEEN and
their UN-s, NEW, OLD, KEYWORD/UNKEYWORD — no keyword is ever stored here); the header
strings BCC, CC, FROM, SUBJECT, TO and HEADER name string; BODY and TEXT; the dates
BEFORE/ON/SINCE (the internal date) and SENTBEFORE/SENTON/SENTSINCE (the Date: field),
compared by day as §6.4.4 says, without time or zone; LARGER/SMALLER; UID and message
sets; NOT, OR, and a parenthesized list (all of its keys). Strings match as substrings,
without regard to case, against the text a person reads (RFC 2047 words decoded);
BODY and TEXT read the body as it travels. ``CHARSET`` may be US-ASCII or UTF-8.

The keys are a peer's words: NOT and OR nest at most :data:`MAX_DEPTH` deep, so no
chain of three thousand NOTs reaches Python's recursion limit.
"""

from __future__ import annotations

import datetime
import re
from email.utils import parsedate_to_datetime

from netsim.proto.mail.headers import field_text, parse_header
from netsim.proto.mail.imap_syntax import ImapSyntaxError, SequenceSet
from netsim.proto.wallclock import EPOCH

MAX_DEPTH = 32
CHARSETS = ("US-ASCII", "UTF-8")
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_DATE = re.compile(r"([0-9]{1,2})-([A-Za-z]{3})-([0-9]{4})", re.ASCII)
_FLAG_KEYS = {"ANSWERED": "\\Answered", "DELETED": "\\Deleted", "DRAFT": "\\Draft",
              "FLAGGED": "\\Flagged", "RECENT": "\\Recent", "SEEN": "\\Seen"}
_HEADER_KEYS = {"BCC", "CC", "FROM", "SUBJECT", "TO"}


class BadCharset(ImapSyntaxError):
    """A CHARSET the server does not have (§6.4.4: ``NO [BADCHARSET (…)]``)."""


class Context:
    """What keys are asked against: one message, its number, and the mailbox's largest
    number and UID (what ``*`` means)."""

    def __init__(self, count: int, largest_uid: int) -> None:
        self.count, self.largest_uid = count, largest_uid
        self.number = 0
        self.message = None
        self._header = None

    def at(self, number: int, message) -> Context:
        self.number, self.message, self._header = number, message, None
        return self

    @property
    def header(self):
        if self._header is None:
            self._header = parse_header(self.message.header)
        return self._header


def compile_search(args: list):
    """The SEARCH arguments → a predicate of a :class:`Context` (all keys must hold)."""
    args = list(args)
    if len(args) >= 2 and isinstance(args[0], str) and args[0].upper() == "CHARSET":
        charset = _text(args[1]).upper()
        if charset not in CHARSETS:
            raise BadCharset(charset)
        args = args[2:]
    if not args:
        raise ImapSyntaxError("Missing search parameters")
    keys = _Keys(args)
    tests = []
    while not keys.done():
        tests.append(keys.key(0))
    return lambda ctx: all(test(ctx) for test in tests)


def _text(value) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    raise ImapSyntaxError("Invalid search parameters")


def _contains(haystack: str, needle: str) -> bool:
    return needle.casefold() in haystack.casefold()


def _date(value) -> datetime.date:
    match = _DATE.fullmatch(_text(value))
    if match is None or match.group(2).lower() not in _MONTHS:
        raise ImapSyntaxError("Invalid search date")
    try:
        return datetime.date(int(match.group(3)), _MONTHS.index(match.group(2).lower()) + 1,
                             int(match.group(1)))
    except ValueError:
        raise ImapSyntaxError("Invalid search date") from None


def _internal_day(ctx) -> datetime.date:
    return datetime.datetime.fromtimestamp(EPOCH + ctx.message.arrived, datetime.timezone.utc).date()


def _sent_day(ctx) -> datetime.date | None:
    """The Date: field's day as written (§6.4.4: time and zone disregarded)."""
    value = ctx.header.get("Date")
    try:
        return parsedate_to_datetime(str(value)).date() if value is not None else None
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


class _Keys:
    """A cursor over the argument list, reading one key at a time."""

    def __init__(self, args: list) -> None:
        self.args, self.i = args, 0

    def done(self) -> bool:
        return self.i >= len(self.args)

    def take(self):
        if self.done():
            raise ImapSyntaxError("Missing search parameters")
        self.i += 1
        return self.args[self.i - 1]

    def number(self) -> int:
        word = self.take()
        if not (isinstance(word, str) and word.isascii() and word.isdigit() and len(word) <= 10):
            raise ImapSyntaxError("Invalid search number")
        return int(word)

    def key(self, depth: int):
        if depth > MAX_DEPTH:
            raise ImapSyntaxError("Search query too deep")
        word = self.take()
        if isinstance(word, list):                     # ( key … ): all of them
            inner = _Keys(word)
            tests = []
            while not inner.done():
                tests.append(inner.key(depth + 1))
            if not tests:
                raise ImapSyntaxError("Missing search parameters")
            return lambda ctx: all(test(ctx) for test in tests)
        if not isinstance(word, str):
            raise ImapSyntaxError("Invalid search parameters")
        name = word.upper()
        if name[:1].isdigit() or name[:1] == "*":      # a message set
            numbers = SequenceSet(word)
            return lambda ctx: (ctx.number, ctx.count) in numbers
        if name == "ALL":
            return lambda ctx: True
        if name in _FLAG_KEYS:
            flag = _FLAG_KEYS[name]
            return lambda ctx: flag in ctx.message.flags
        if name.startswith("UN") and name[2:] in _FLAG_KEYS and name != "UNRECENT":
            flag = _FLAG_KEYS[name[2:]]
            return lambda ctx: flag not in ctx.message.flags
        if name == "NEW":
            return lambda ctx: "\\Recent" in ctx.message.flags and "\\Seen" not in ctx.message.flags
        if name == "OLD":
            return lambda ctx: "\\Recent" not in ctx.message.flags
        if name in ("KEYWORD", "UNKEYWORD"):
            self.take()                                # no keyword is ever stored here
            return (lambda ctx: False) if name == "KEYWORD" else (lambda ctx: True)
        if name in _HEADER_KEYS:
            return self._header_test(name, _text(self.take()))
        if name == "HEADER":
            field = _text(self.take())
            return self._header_test(field, _text(self.take()))
        if name in ("BODY", "TEXT"):
            needle = _text(self.take())
            if name == "BODY":
                return lambda ctx: _contains(ctx.message.body.decode("utf-8", "replace"), needle)
            return lambda ctx: _contains(ctx.message.data.decode("utf-8", "replace"), needle)
        if name in ("BEFORE", "ON", "SINCE"):
            return _compare(name, self.take(), _internal_day)
        if name in ("SENTBEFORE", "SENTON", "SENTSINCE"):
            return _compare(name[4:], self.take(), _sent_day)
        if name == "LARGER":
            size = self.number()
            return lambda ctx: ctx.message.size > size
        if name == "SMALLER":
            size = self.number()
            return lambda ctx: ctx.message.size < size
        if name == "UID":
            uids = SequenceSet(_text(self.take()))
            return lambda ctx: (ctx.message.uid, ctx.largest_uid) in uids
        if name == "NOT":
            test = self.key(depth + 1)
            return lambda ctx: not test(ctx)
        if name == "OR":
            first, second = self.key(depth + 1), self.key(depth + 1)
            return lambda ctx: first(ctx) or second(ctx)
        raise ImapSyntaxError(f"Unknown argument {word[:40]}")

    @staticmethod
    def _header_test(field: str, needle: str):
        def test(ctx) -> bool:
            values = ctx.header.get_all(field, [])
            return any(_contains(field_text(value), needle) for value in values)
        return test


def _compare(how: str, value, day_of):
    day = _date(value)

    def test(ctx) -> bool:
        seen = day_of(ctx)
        if seen is None:
            return False
        return seen < day if how == "BEFORE" else seen == day if how == "ON" else seen >= day
    return test
