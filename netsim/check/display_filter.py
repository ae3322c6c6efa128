"""Wireshark's display-filter language, the part a lab needs, over netsim's own
decoding (:mod:`netsim.wire.fields`) — no tshark at run time.

    tcp.srcport == 20 && tcp.flags.syn == 1
    dns.flags.response == 0 && udp.dstport == 53
    http.response.code == 304 || !(ftp.request.command == "PASV")
    smtp.req.command in {"MAIL", "RCPT"}    ip.src == 10.0.1.0/24
    http.request.uri contains "login"       http.host matches "^www\\."

As in Wireshark 4: a bare field asks whether the frame has it; ``==``, ``<``, ``>``,
``<=``, ``>=``, ``contains``, ``matches`` and ``in`` hold when *any* occurrence of the
field does; ``!=`` when *every* occurrence differs (``!(a == b)``). ``and``/``or``/``not``
and ``eq``/``ne``/``lt``/``gt``/``le``/``ge`` are the word forms. A boolean field
compares with ``1``/``0`` or ``true``/``false``; a field of addresses with an address
or a ``/prefix`` network. :func:`parse` raises :class:`FilterError` (with the column)
for a field no decoder names, so a scenario's expectations fail before anything runs.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from netsim.wire.field_names import FIELDS


class FilterError(ValueError):
    """A filter that does not parse, or names a field netsim does not decode."""


_TOKEN = re.compile(r"""\s*(?:
    (?P<string>"(?:[^"\\]|\\.)*")
  | (?P<op>==|!=|<=|>=|&&|\|\||[<>!(){},])
  | (?P<word>[A-Za-z0-9_.:/-]+)
)""", re.VERBOSE)
_WORD_OPS = {"and": "&&", "or": "||", "not": "!", "eq": "==", "ne": "!=", "lt": "<", "gt": ">",
             "le": "<=", "ge": ">=", "contains": "contains", "matches": "matches", "in": "in"}
_IPV4_FIELDS = frozenset({"ip.src", "ip.dst", "ip.addr", "arp.src.proto_ipv4",
                          "arp.dst.proto_ipv4", "dns.a"})
_MAC_FIELDS = frozenset({"eth.src", "eth.dst", "eth.addr", "arp.src.hw_mac", "arp.dst.hw_mac"})
#: How deep parentheses and negations may nest (Python's own stack is the limit past it).
MAX_DEPTH = 64
_COMPARISONS = ("==", "!=", "<", ">", "<=", ">=", "contains", "matches", "in")


@dataclass(frozen=True)
class _Test:
    field: str
    op: str | None                      # None: the field is present
    value: object = None

    def __call__(self, fields: dict) -> bool:
        values = fields.get(self.field)
        if not values:
            return False
        if self.op is None:
            return True
        if self.op == "!=":
            return all(not _equal(v, self.value) for v in values)
        return any(_holds(self.op, v, self.value) for v in values)


@dataclass(frozen=True)
class _Not:
    inner: object

    def __call__(self, fields: dict) -> bool:
        return not self.inner(fields)


@dataclass(frozen=True)
class _Either:
    """``a || b || …`` (any_of) or ``a && b && …``: one node for a whole chain, so a
    filter of a thousand terms is as deep as one of two."""
    parts: tuple
    any_of: bool

    def __call__(self, fields: dict) -> bool:
        if self.any_of:
            return any(part(fields) for part in self.parts)
        return all(part(fields) for part in self.parts)


class Filter:
    """A parsed filter: call it with a frame's fields."""

    def __init__(self, text: str, test) -> None:
        self.text, self._test = text, test
        self.fields = _fields_of(test)

    def __call__(self, fields: dict) -> bool:
        return self._test(fields)

    def __repr__(self) -> str:
        return f"Filter({self.text!r})"


def parse(text: str) -> Filter:
    tokens = _tokens(text)
    parser = _Parser(text, tokens)
    test = parser.disjunction()
    if parser.at < len(tokens):
        raise parser.error(f"unexpected {tokens[parser.at][2]!r}")
    return Filter(text, test)


def _tokens(text: str) -> list[tuple[int, str, str]]:
    out, at = [], 0
    while at < len(text):
        if text[at:].strip() == "":
            break
        m = _TOKEN.match(text, at)
        if m is None or m.end() == at:
            column = len(text) - len(text[at:].lstrip()) + 1
            raise FilterError(f"filter {text!r}: cannot read {text[at:].strip()[:20]!r} "
                              f"(column {column})")
        kind = m.lastgroup
        value = m.group(kind)
        if kind == "word" and value in _WORD_OPS:
            kind, value = "op", _WORD_OPS[value]
        if kind == "word" and ".." in value:
            out += _range_tokens(m.start(kind), value)   # a set's 20..21: no name has ".."
        else:
            out.append((m.start(kind), kind, value))
        at = m.end()
    return out


def _range_tokens(start: int, word: str) -> list[tuple[int, str, str]]:
    low, _, high = word.partition("..")
    out = [(start, "word", low)] if low else []
    out.append((start + len(low), "op", ".."))
    return out + ([(start + len(low) + 2, "word", high)] if high else [])


class _Parser:
    def __init__(self, text: str, tokens: list) -> None:
        self.text, self.tokens, self.at = text, tokens, 0
        self.depth = 0                  # parentheses and negations open here

    def error(self, what: str) -> FilterError:
        column = self.tokens[self.at][0] + 1 if self.at < len(self.tokens) else len(self.text) + 1
        return FilterError(f"filter {self.text!r}: {what} (column {column})")

    def peek(self) -> str | None:
        return self.tokens[self.at][2] if self.at < len(self.tokens) else None

    def take(self) -> tuple[int, str, str]:
        if self.at >= len(self.tokens):
            raise self.error("it ends too soon")
        self.at += 1
        return self.tokens[self.at - 1]

    def disjunction(self):
        parts = [self.conjunction()]
        while self.peek() == "||":
            self.take()
            parts.append(self.conjunction())
        return parts[0] if len(parts) == 1 else _Either(tuple(parts), any_of=True)

    def conjunction(self):
        parts = [self.negation()]
        while self.peek() == "&&":
            self.take()
            parts.append(self.negation())
        return parts[0] if len(parts) == 1 else _Either(tuple(parts), any_of=False)

    def negation(self):
        if self.peek() in ("!", "("):
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise self.error(f"nested more than {MAX_DEPTH} deep")
        if self.peek() == "!":
            self.take()
            test = _Not(self.negation())
            self.depth -= 1
            return test
        if self.peek() == "(":
            self.take()
            test = self.disjunction()
            if self.peek() != ")":
                raise self.error("a '(' is not closed")
            self.take()
            self.depth -= 1
            return test
        return self.comparison()

    def comparison(self):
        _, kind, name = self.take()
        if kind != "word" or name not in FIELDS:
            self.at -= 1
            raise self.error(f"{name!r} is not a field netsim decodes"
                             + _suggestion(name) if kind == "word" else f"expected a field, not {name!r}")
        op = self.peek()
        if op not in _COMPARISONS:
            return _Test(name, None)
        self.take()
        if op == "in":
            if self.peek() != "{":
                raise self.error("'in' takes a set: {a, b, c}")
            self.take()
            return _Test(name, "in", self.members(name))
        return _Test(name, op, self.value(name, op))

    def members(self, field: str) -> tuple:
        """A set's members after its ``{``: values or ``low..high`` ranges, separated
        by commas — Wireshark 4 refuses the whitespace-only lists 3.x took."""
        values = []
        while self.peek() not in ("}", None):
            if values:
                if self.peek() != ",":
                    raise self.error("a set's members are separated by commas: {a, b}")
                self.take()
            values.append(self.member(field))
        if self.peek() != "}":
            raise self.error("a '{' is not closed")
        self.take()
        if not values:
            raise self.error("an empty set")
        return tuple(values)

    def member(self, field: str):
        """One member of a set: a value, or for a number field ``low..high``."""
        low = self.value(field, "in")
        if self.peek() != "..":
            return low
        if FIELDS[field] is not int:
            raise self.error(f"a range needs numbers; {field} holds none")
        self.take()
        return range(low, self.value(field, "in") + 1)

    def value(self, field: str, op: str):
        _, kind, text = self.take()
        if kind == "string":
            text = _unescape(text[1:-1])
        elif kind != "word":
            self.at -= 1
            raise self.error(f"expected a value after {op!r}, not {text!r}")
        return self.typed(field, op, text, quoted=kind == "string")

    def typed(self, field: str, op: str, text: str, quoted: bool = True):
        """The just-taken value ``text`` as what ``field`` holds (errors point at it)."""
        if field == "frame":
            # The frame is bytes (held as latin-1 text, a character a byte): a string
            # means its UTF-8 bytes, as Wireshark reads one; 0d:0a unquoted, those bytes.
            if not quoted and re.fullmatch(r"[0-9A-Fa-f]{2}([:.-][0-9A-Fa-f]{2})*", text):
                text = bytes.fromhex(re.sub(r"[:.-]", "", text)).decode("latin-1")
            else:
                text = text.encode("utf-8").decode("latin-1")
        if op in ("contains", "matches"):
            if op == "matches":
                # Wireshark's matches is caseless unless the pattern opens with (?-i).
                caseless = not text.startswith("(?-i)")
                try:
                    return re.compile(text.removeprefix("(?-i)"), re.IGNORECASE if caseless else 0)
                except re.error as exc:
                    self.at -= 1
                    raise self.error(f"{text!r} is not a regular expression ({exc})") from None
            return text
        kind_of = FIELDS[field]
        try:
            if kind_of is bool:
                # Wireshark takes any number (not 0: set) and True/False; netsim takes
                # true/false too, which Wireshark 4.0 refuses in lower case.
                if text.lower() in ("true", "false"):
                    return text.lower() == "true"
                return bool(int(text, 0))
            if kind_of is int:
                return int(text, 0)
        except ValueError:
            self.at -= 1
            raise self.error(f"{field} is a {'flag' if kind_of is bool else 'number'}; "
                             f"{text!r} is not one") from None
        if field in _IPV4_FIELDS:
            try:
                if "/" in text:
                    return ipaddress.IPv4Network(text, strict=False)
                return str(ipaddress.IPv4Address(text))
            except ValueError:
                self.at -= 1
                raise self.error(f"{field} holds IPv4 addresses: {text!r} is neither an address "
                                 "nor a network (write a node's address, not its name)") from None
        if field in _MAC_FIELDS and not _looks_like_mac(text):
            self.at -= 1
            raise self.error(f"{field} holds MAC addresses; {text!r} is not one "
                             "(write 02:00:00:00:00:01)")
        return text


_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "0": "\0", "a": "\a", "b": "\b", "f": "\f",
            "v": "\v", "\\": "\\", '"': '"'}


def _unescape(text: str) -> str:
    """A quoted string's escapes as Wireshark reads them: ``\\n``, ``\\r``, ``\\t``,
    ``\\xHH``, ``\\"``, ``\\\\``; another escaped character stands for itself."""
    def one(m: re.Match) -> str:
        what = m.group(1)
        if what.startswith("x"):
            return chr(int(what[1:], 16))
        return _ESCAPES.get(what, what)
    return re.sub(r"\\(x[0-9A-Fa-f]{2}|.)", one, text)


def _suggestion(name: str) -> str:
    import difflib
    near = difflib.get_close_matches(name, FIELDS, n=1)
    return f" (did you mean {near[0]}?)" if near else ""


def _equal(actual, wanted) -> bool:
    if isinstance(wanted, ipaddress.IPv4Network):
        try:
            return ipaddress.ip_address(actual) in wanted
        except ValueError:
            return False
    if isinstance(actual, str) and isinstance(wanted, str) and _looks_like_mac(wanted):
        return actual.lower() == wanted.lower().replace("-", ":")
    return actual == wanted


def _holds(op: str, actual, wanted) -> bool:
    if op == "==":
        return _equal(actual, wanted)
    if op == "in":
        return any(actual in w if isinstance(w, range) else _equal(actual, w) for w in wanted)
    if op == "contains":
        return str(wanted) in str(actual)
    if op == "matches":
        return wanted.search(str(actual)) is not None
    if isinstance(actual, str) and isinstance(wanted, str):
        pass                            # Wireshark orders strings too, byte by byte
    elif not isinstance(actual, (int, float)) or not isinstance(wanted, (int, float)):
        return False
    return {"<": actual < wanted, ">": actual > wanted,
            "<=": actual <= wanted, ">=": actual >= wanted}[op]


def _looks_like_mac(text: str) -> bool:
    return re.fullmatch(r"[0-9A-Fa-f]{2}([:-][0-9A-Fa-f]{2}){5}", text) is not None


def _fields_of(test) -> set[str]:
    if isinstance(test, _Test):
        return {test.field}
    if isinstance(test, _Not):
        return _fields_of(test.inner)
    return set().union(*(_fields_of(part) for part in test.parts))
