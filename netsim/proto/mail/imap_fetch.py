"""What IMAP's FETCH asks for and how each item is written (RFC 3501 §6.4.5, §7.4.2):
FLAGS, UID, INTERNALDATE, RFC822.SIZE, ENVELOPE, BODY and BODYSTRUCTURE, RFC822,
RFC822.HEADER, RFC822.TEXT, and ``BODY[section]<partial>`` / ``BODY.PEEK[…]`` with the
sections a mail client uses: the whole message, ``HEADER``, ``HEADER.FIELDS (…)``,
``HEADER.FIELDS.NOT (…)``, ``TEXT``, a part number (``1``, ``2.1``) and its ``MIME``
header, and a part's own ``HEADER``/``TEXT`` when it is a message/rfc822.

:func:`items` reads the client's list once, before any message is touched (a bad item
is ``BAD`` and sets no ``\\Seen``); :func:`render` writes one item of one message.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from email.utils import collapse_rfc2231_value

from netsim.proto.mail import mime
from netsim.proto.mail.headers import addresses as addresses_of
from netsim.proto.mail.headers import parse_header
from netsim.proto.mail.imap_syntax import ImapSyntaxError, parse, quote
from netsim.proto.wallclock import utc

#: §6.4.5's macros.
MACROS = {"ALL": ["FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE"],
          "FAST": ["FLAGS", "INTERNALDATE", "RFC822.SIZE"],
          "FULL": ["FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE", "BODY"]}
SIMPLE = {"FLAGS", "UID", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE", "BODY", "BODYSTRUCTURE",
          "RFC822", "RFC822.HEADER", "RFC822.TEXT"}
_SECTION = re.compile(r"(BODY(?:\.PEEK)?)\[([^\]]*)\](?:<([0-9]{1,10})\.([0-9]{1,10})>)?",
                      re.ASCII | re.IGNORECASE)
_KEYWORDS = {"", "HEADER", "HEADER.FIELDS", "HEADER.FIELDS.NOT", "TEXT", "MIME"}
_FIELD_NAME = re.compile(r"[!-9;-~]{1,100}", re.ASCII)         # RFC 5322 §3.6.8 ftext


@dataclass(frozen=True, slots=True)
class Item:
    """One FETCH attribute. ``name`` is a simple item's (FLAGS, BODYSTRUCTURE, …); a
    section fetch has ``section`` (part numbers, keyword, field names), ``peek`` and
    ``partial`` (origin, count)."""
    name: str
    numbers: tuple[int, ...] = ()
    keyword: str = ""
    fields: tuple[str, ...] = ()
    peek: bool = True
    partial: tuple[int, int] | None = None

    @property
    def sets_seen(self) -> bool:
        """§6.4.5: BODY[…] and RFC822, RFC822.TEXT set ``\\Seen``; .PEEK and HEADER do not."""
        return (self.name == "BODY[]" and not self.peek) or self.name in ("RFC822", "RFC822.TEXT")

    def label(self) -> bytes:
        """The item's name in the response: ``BODY[HEADER.FIELDS (FROM TO)]<0>``."""
        if self.name != "BODY[]":
            return self.name.encode()
        spec = ".".join([str(n) for n in self.numbers] + ([self.keyword] if self.keyword else []))
        if self.fields:
            spec += " (" + " ".join(self.fields) + ")"
        origin = f"<{self.partial[0]}>" if self.partial else ""
        return f"BODY[{spec}]{origin}".encode()


def items(value) -> list[Item]:
    """The FETCH argument (an atom, or a list of them) → items; a macro stands alone."""
    words = value if isinstance(value, list) else [value]
    if not words or not all(isinstance(w, str) for w in words):
        raise ImapSyntaxError("Invalid arguments.")
    if len(words) == 1 and words[0].upper() in MACROS:
        words = MACROS[words[0].upper()]
    return [_item(word) for word in words]


def _item(word: str) -> Item:
    upper = word.upper()
    if upper in SIMPLE:
        return Item(upper)
    match = _SECTION.fullmatch(word)
    if match is None:
        raise ImapSyntaxError(f"Unknown parameter {word[:40]}")
    peek = match.group(1).upper() == "BODY.PEEK"
    partial = None
    if match.group(3) is not None:
        partial = (int(match.group(3)), int(match.group(4)))
        if partial[1] == 0:                          # §9: partial = number "." nz-number
            raise ImapSyntaxError("Invalid partial")
    numbers, keyword, fields = _section(match.group(2))
    return Item("BODY[]", numbers, keyword, fields, peek, partial)


def _section(text: str) -> tuple[tuple[int, ...], str, tuple[str, ...]]:
    """``2.HEADER.FIELDS (From To)`` → ((2,), "HEADER.FIELDS", ("FROM", "TO"))."""
    head, paren, rest = text.partition("(")
    head = head.strip()
    words = head.split(".") if head else []
    numbers = []
    while words and words[0].isascii() and words[0].isdigit():
        if len(words[0]) > 9 or int(words[0]) == 0:
            raise ImapSyntaxError("Invalid section")
        numbers.append(int(words.pop(0)))
    keyword = ".".join(words).upper()
    if keyword not in _KEYWORDS or (keyword == "MIME" and not numbers):
        raise ImapSyntaxError("Invalid section")
    fields: tuple[str, ...] = ()
    if keyword.startswith("HEADER.FIELDS"):
        if not paren:
            raise ImapSyntaxError("Invalid section")
        listed = parse(("(" + rest).encode(), max_lists=1)
        if len(listed) != 1 or not isinstance(listed[0], list) or not listed[0]:
            raise ImapSyntaxError("Invalid section")
        for name in listed[0]:
            if not isinstance(name, str) or not _FIELD_NAME.fullmatch(name):
                raise ImapSyntaxError("Invalid header field name")
        fields = tuple(name.upper() for name in listed[0])
    elif paren:
        raise ImapSyntaxError("Invalid section")
    return tuple(numbers), keyword, fields


# -- writing items ----------------------------------------------------------------------------

def imap_date(seconds: float) -> str:
    return time.strftime("%d-%b-%Y %H:%M:%S +0000", utc(seconds))


SYSTEM_FLAGS = ("\\Answered", "\\Flagged", "\\Deleted", "\\Seen", "\\Draft")


def client_flags(values) -> set[str]:
    """Flags a client asks to store (STORE, APPEND): the system flags as the server
    spells them; ``\\Recent`` is the server's alone and a keyword is not kept
    (PERMANENTFLAGS has no ``\\*``: RFC 3501 §2.3.2 lets a server ignore it); another
    ``\\`` flag is no flag (Dovecot's words)."""
    values = values if isinstance(values, list) else [values]
    out = set()
    for value in values:
        if not isinstance(value, str):
            raise ImapSyntaxError("Invalid arguments.")
        if value.startswith("\\"):
            known = next((f for f in SYSTEM_FLAGS if f.upper() == value.upper()), None)
            if known is None and value.upper() != "\\RECENT":
                raise ImapSyntaxError(f"Invalid system flag {value[:40]}")
            if known:
                out.add(known)
    return out


def flag_list(flags) -> bytes:
    return b"(" + " ".join(sorted(flags)).encode() + b")"


def render(message, item: Item) -> bytes:
    """One item of a stored message (:class:`~netsim.proto.mail.store.StoredMessage`),
    as the FETCH response writes it."""
    name = item.name
    if name == "FLAGS":
        return b"FLAGS " + flag_list(message.flags)
    if name == "UID":
        return f"UID {message.uid}".encode()
    if name == "RFC822.SIZE":
        return f"RFC822.SIZE {message.size}".encode()
    if name == "INTERNALDATE":
        return b"INTERNALDATE " + quote(imap_date(message.arrived))
    if name == "ENVELOPE":
        return b"ENVELOPE " + envelope(message.data)
    if name in ("BODY", "BODYSTRUCTURE"):
        return name.encode() + b" " + body_structure(mime.parse(message.data),
                                                      extensible=name == "BODYSTRUCTURE")
    if name == "RFC822":
        return b"RFC822 " + quote(message.data)
    if name == "RFC822.HEADER":
        return b"RFC822.HEADER " + quote(message.header)
    if name == "RFC822.TEXT":
        return b"RFC822.TEXT " + quote(message.body)
    data = section(message.data, item)
    if item.partial is not None:
        origin, count = item.partial
        data = data[origin:origin + count]
    return item.label() + b" " + quote(data)


def section(data: bytes, item: Item) -> bytes:
    """The octets a section names (§6.4.5); a part that is not there is empty, as
    Dovecot gives it."""
    if not item.numbers:
        header, body = mime.split_header(data)
        if item.keyword == "":
            return data
        if item.keyword == "HEADER":
            return header
        if item.keyword == "TEXT":
            return body
        return header_fields(header, item.fields, exclude=item.keyword.endswith(".NOT"))
    part = _part(mime.parse(data), item.numbers)
    if part is None:
        return b""
    if item.keyword == "":
        return part.body
    if item.keyword == "MIME":
        return part.header
    inner = part.message                          # HEADER, TEXT of an encapsulated message
    if inner is None:
        return b""
    if item.keyword == "HEADER":
        return inner.header
    if item.keyword == "TEXT":
        return inner.body
    return header_fields(inner.header, item.fields, exclude=item.keyword.endswith(".NOT"))


def _part(root: mime.Part, numbers: tuple[int, ...]) -> mime.Part | None:
    """§6.4.5 part numbering: a multipart's parts count from 1; a part that is no
    multipart is its own part 1; a message/rfc822 part's numbers go on inside the
    message it holds."""
    part = root
    for depth, n in enumerate(numbers):
        if depth and part.message is not None:
            part = part.message
        if part.parts:
            if n > len(part.parts):
                return None
            part = part.parts[n - 1]
        elif n != 1:
            return None
    return part


def header_fields(header: bytes, names: tuple[str, ...], *, exclude: bool) -> bytes:
    """The fields of a header named (or, ``exclude``, not named) in ``names``, each
    with its folded lines, then the blank line (§6.4.5 HEADER.FIELDS)."""
    wanted = {name.upper() for name in names}
    out, keep = [], False
    for line in header.split(b"\r\n"):
        if not line:
            continue
        if line[:1] not in (b" ", b"\t"):
            name = line.partition(b":")[0].strip().decode("ascii", "replace").upper()
            keep = (name in wanted) != exclude
        if keep:
            out.append(line + b"\r\n")
    return b"".join(out) + b"\r\n"


def envelope(data: bytes) -> bytes:
    """RFC 3501 §7.4.2's ENVELOPE: date, subject, from, sender, reply-to, to, cc, bcc,
    in-reply-to, message-id — addresses as (name NIL mailbox host)."""
    msg = parse_header(mime.split_header(data)[0])

    def addresses(*fields):
        values = [v for f in fields for v in msg.get_all(f, [])]
        if not values:
            return None
        out = []
        for name, address in addresses_of(values):
            mailbox, _, host = address.partition("@")
            out.append([name or None, None, mailbox or None, host or None])
        return out or None

    sender = addresses("Sender") or addresses("From")
    return quote([msg.get("Date"), msg.get("Subject"), addresses("From"), sender,
                  addresses("Reply-To") or addresses("From"), addresses("To"), addresses("Cc"),
                  addresses("Bcc"), msg.get("In-Reply-To"), msg.get("Message-ID")])


def body_structure(part: mime.Part, *, extensible: bool) -> bytes:
    """§7.4.2 BODY / BODYSTRUCTURE of a part; with ``extensible``, the extension data
    a client reads attachments by (disposition, language; MD5 is NIL)."""
    fields = part.fields
    disposition = language = None
    if extensible:
        value = fields.get("Content-Disposition")
        if value is not None:
            kind = str(value).split(";", 1)[0].strip().lower() or "attachment"
            disposition = [kind, _params(fields, "content-disposition")]
        language = fields.get("Content-Language")
    if part.is_multipart:
        children = part.parts or [mime.Part(b"\r\n", b"")]        # §9: 1*body
        out = b"(" + b"".join(body_structure(p, extensible=extensible) for p in children)
        out += b" " + quote(fields.get_content_subtype())
        if extensible:
            out += b" " + b" ".join(quote(v) for v in (_params(fields, "content-type"),
                                                       disposition, language))
        return out + b")"
    maintype, subtype = fields.get_content_maintype(), fields.get_content_subtype()
    params = _params(fields, "content-type")
    if maintype == "text" and not params:
        params = ["charset", "us-ascii"]                            # RFC 2045 §5.2
    encoding = str(fields.get("Content-Transfer-Encoding", "7bit")).strip().lower() or "7bit"
    values = [maintype, subtype, params, fields.get("Content-ID"),
              fields.get("Content-Description"), encoding, len(part.body)]
    out = b"(" + b" ".join(quote(v) for v in values)
    if maintype == "message" and subtype == "rfc822" and part.message is not None:
        out += b" " + envelope(part.body) + b" " + \
            body_structure(part.message, extensible=extensible) + b" " + \
            str(mime.lines(part.body)).encode()
    elif maintype == "text":
        out += b" " + str(mime.lines(part.body)).encode()
    if extensible:
        out += b" NIL " + quote(disposition) + b" " + quote(language)
    return out + b")"


def _params(fields, header: str) -> list | None:
    """A field's parameters as IMAP's body-fld-param: ("name" "value" …), or NIL."""
    params = fields.get_params(header=header) or []
    out = []
    for name, value in params[1:]:
        out += [name, collapse_rfc2231_value(value) if value is not None else ""]
    return out or None
