"""http:// URLs as an HTTP client reads them, with no I/O: the URL a scenario gives, a
``Location`` (RFC 9110 §10.2.2) or a page's ``src``/``href`` made absolute, and the
host, port and request target that go on the wire.

A reference comes from a peer (a server's redirect, its HTML), so it is taken the way
the WHATWG URL Standard's parser takes it: leading and trailing spaces and C0 controls
dropped, tabs and line breaks removed, a path and query percent-encoded where they hold
a space, a control, a quote, ``<``, ``>``, a backtick, braces or non-ASCII (so the target
is what h11 may write), a non-ASCII host name turned into its IDNA form, the fragment
left out. A reference that does not parse raises :class:`UrlError`, and so does
:func:`parse_url` for a URL that is not ``http://host[:port]/…`` — a browser shows those
as ``net::ERR_INVALID_URL``, or ``net::ERR_UNKNOWN_URL_SCHEME`` for ``mailto:``, ``ftp:``, ….
"""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

PORT = 80
TLS_PORT = 443                           # https (RFC 9110 §4.2.2)

#: RFC 1035 §2.3.4 (and RFC 1123 §2.1): a label is at most 63 octets, a name 253
#: characters in text; a host name is letters, digits and hyphens (and '_', which
#: service names use and resolvers pass).
_LABEL = re.compile(r"[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?\Z")
#: What a URL's host may hold once canonical; a label's length is the resolver's business.
_HOST_CHARS = re.compile(r"[a-z0-9_.-]+\Z")
_PORT = re.compile(r"[0-9]{1,5}\Z")
#: What the URL Standard's path and query percent-encode sets hold beyond non-ASCII
#: and C0 controls: space " # < > ` { } (the query: space " # < >).
_PATH_ESCAPE = set(b' "#<>`{}')
_C0_OR_SPACE = "".join(chr(c) for c in range(0x21))
_QUERY_ESCAPE = set(b' "#<>')


class UrlError(ValueError):
    """Not a URL a browser can fetch over http://; ``scheme`` is True when the reason is
    the scheme (Chrome's ERR_UNKNOWN_URL_SCHEME) rather than the URL's form."""

    def __init__(self, message: str, *, scheme: bool = False, reference: str = "") -> None:
        super().__init__(message)
        self.scheme = scheme
        #: The reference as it came, for a row that cannot show a path.
        self.reference = reference


def host_header(host: str, port: int, secure: bool = False) -> str:
    """The ``Host`` a request names (RFC 9110 §7.2): the port only when not the scheme's
    default (80, or 443 for https)."""
    return host if port == (TLS_PORT if secure else PORT) else f"{host}:{port}"


def is_https(url: str) -> bool:
    """Whether ``url`` is an https:// one: TLS under HTTP (RFC 9110 §4.2.2)."""
    return url.startswith("https://")


def parse_url(url: str) -> tuple[str, int, str]:
    """``http://host[:port]/path`` or ``https://…`` → (host, port, path); the port is the
    scheme's default (80, 443) when the URL gives none."""
    if url.startswith("https://"):
        rest, default = url[len("https://"):], TLS_PORT
    elif url.startswith("http://"):
        rest, default = url[len("http://"):], PORT
    else:
        raise UrlError(f"{url!r} is not an http:// or https:// URL", scheme=True)
    hostport, _, path = rest.partition("/")
    host, _, port = hostport.partition(":")
    # ASCII digits only: str.isdigit() is true for '²' and '٨', which int() then reads.
    if not host or (port and not _PORT.match(port)):
        raise UrlError(f"{url!r} has no host")
    if port and not 0 < int(port) <= 65535:
        raise UrlError(f"{url!r}: port {port} is not 1–65535")
    if not _HOST_CHARS.match(host.lower()):
        raise UrlError(f"{url!r}: {host!r} is not a host name")
    return host, int(port or default), "/" + path


def host_problem(host: str) -> str | None:
    """Why ``host`` cannot be looked up (a label of 70 letters, an empty label), or None.
    Chrome's resolver refuses such a name before asking DNS (ERR_NAME_NOT_RESOLVED)."""
    name = host[:-1] if host.endswith(".") else host
    if not name or len(name) > 253:
        return f"{host[:40]}…: a name is at most 253 characters" if name else "an empty name"
    for label in name.split("."):
        if not label:
            return f"{host}: an empty label"
        if len(label) > 63:
            return f"a label of {len(label)} characters (at most 63)"
        if not _LABEL.match(label):
            return f"{host}: not a host name"
    return None


def resolve_reference(base: str, reference: str) -> str:
    """A reference (a Location, a ``src``) against the URL it came with → an absolute
    URL: an http:// one canonical (what goes on the wire is ASCII without spaces),
    another scheme as it is (the fetch fails with ERR_UNKNOWN_URL_SCHEME). One that does
    not parse at all (``http://[bad/``) raises :class:`UrlError`."""
    ref = reference.strip(_C0_OR_SPACE)
    ref = ref.replace("\t", "").replace("\n", "").replace("\r", "")
    try:
        url = urljoin(base, ref)
        parts = urlsplit(url)
    except ValueError as exc:              # 'http://[bad/': "Invalid IPv6 URL"
        raise UrlError(f"{reference!r}: {exc}", reference=reference) from None
    scheme = parts.scheme
    if scheme not in ("http", "https") or not url[len(scheme) + 1:].startswith("//"):
        return url
    host, colon, port = parts.netloc.rpartition("@")[2].partition(":")
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            raise UrlError(f"{reference!r}: the host is not a name IDNA can write",
                           reference=reference) from None
    path = _escape(parts.path or "/", _PATH_ESCAPE)
    query = "?" + _escape(parts.query, _QUERY_ESCAPE) if parts.query else ""
    return f"{scheme}://{host.lower()}{colon}{port}{path}{query}"


def path_of(url: str) -> str:
    """The path of an http:// or https:// URL, without its query (``/`` if none)."""
    rest = url.partition("://")[2] if url.startswith(("http://", "https://")) else url
    path = "/" + rest.partition("/")[2]
    return path.partition("?")[0].partition("#")[0]


def _escape(text: str, extra: set[int]) -> str:
    out = []
    for byte in text.encode("utf-8", "surrogatepass"):
        if byte < 0x21 or byte > 0x7E or byte in extra:
            out.append(f"%{byte:02X}")
        else:
            out.append(chr(byte))
    return "".join(out)
