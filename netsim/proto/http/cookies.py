"""A browser's cookie jar (RFC 6265), with no I/O: ``Set-Cookie`` read from responses,
``Cookie`` written for requests.

Host-only cookies unless ``Domain`` widens them to subdomains (§5.3 step 6) — never to
a public suffix (step 5: ``Domain=com`` or ``Domain=co.uk`` is refused, from the small
list :mod:`netsim.proto.http.public_suffix` keeps; one equal to the host itself makes a
host-only cookie), and a host that is an IP address matches only itself (§5.1.3: only a
host name has subdomains, so ``Domain=0.2.80`` from ``10.0.2.80`` is refused); ``Path``
prefix matching (§5.1.4) with the default path of the request (§5.1.4); ``Max-Age`` before
``Expires`` (§5.3 step 3); a cookie whose expiry has passed is removed; ``Secure`` cookies
are not sent over http://. Cookies are sent longest path first (§5.4 step 2).

A server's ``Set-Cookie`` is read as RFC 6265 §5.2 reads it, strictly where a number or a
date is concerned: ``Max-Age`` is ASCII digits with an optional '-' (§5.2.2; anything
else is ignored), ``Expires`` a cookie-date (§5.1.1), and however far off either says,
a cookie lives at most 400 days (RFC 6265bis §5.5–5.6, as Chrome and Firefox cap it): a
``Max-Age`` of 400 digits is 400 days, not an overflow. A name or value with a control
character, or one longer than 4096 octets together (§6.1), is ignored, as Chrome does.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from netsim.proto.http.dates import delta_seconds, parse_cookie_date
from netsim.proto.http.public_suffix import is_public_suffix

#: RFC 6265bis: the longest a cookie may live (400 days).
MAX_AGE_LIMIT = 400 * 24 * 3600
#: RFC 6265 §6.1: at least 4096 octets for name, value and attributes; Chrome's limit
#: for name and value together.
MAX_COOKIE_SIZE = 4096
_CONTROL = frozenset(chr(c) for c in [*range(0x00, 0x09), *range(0x0A, 0x20), 0x7F])


@dataclass
class Cookie:
    name: str
    value: str
    domain: str
    host_only: bool = True
    path: str = "/"
    expires: float | None = None          # simulated seconds; None: a session cookie
    secure: bool = False
    http_only: bool = False
    created: float = 0.0


def default_path(request_path: str) -> str:
    path = request_path.split("?", 1)[0]
    if not path.startswith("/") or path.count("/") == 1:
        return "/"
    return path[:path.rfind("/")]


def path_matches(request_path: str, cookie_path: str) -> bool:
    path = request_path.split("?", 1)[0] or "/"
    return (path == cookie_path or (path.startswith(cookie_path)
            and (cookie_path.endswith("/") or path[len(cookie_path)] == "/")))


def is_ip_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host.removeprefix("[").removesuffix("]"))
    except ValueError:
        return False
    return True


def domain_matches(host: str, domain: str) -> bool:
    """RFC 6265 §5.1.3: the same name, or a host name (not an IP address) that ends
    with ``.`` + ``domain``."""
    return host == domain or (host.endswith("." + domain) and not is_ip_address(host))


class CookieJar:
    def __init__(self) -> None:
        self.cookies: dict[tuple[str, str, str], Cookie] = {}

    def receive(self, host: str, path: str, set_cookie: str, now: float) -> Cookie | None:
        """One ``Set-Cookie`` header value from a response for ``host``/``path``."""
        pair, *attributes = set_cookie.split(";")
        name, eq, value = pair.partition("=")
        name, value = name.strip(), value.strip()
        if not eq or not name:
            return None                              # §5.2 step 2: ignored
        if len(name) + len(value) > MAX_COOKIE_SIZE or not _CONTROL.isdisjoint(name + value):
            return None
        host = host.lower()
        cookie = Cookie(name, value, host, path=default_path(path), created=now)
        max_age = domain = None
        for attribute in attributes:
            key, _, arg = attribute.strip().partition("=")
            key, arg = key.strip().lower(), arg.strip()
            if key == "max-age":
                seconds = delta_seconds(arg, signed=True, cap=MAX_AGE_LIMIT)
                if seconds is not None:
                    max_age = seconds
            elif key == "expires" and max_age is None:
                when = parse_cookie_date(arg)
                if when is not None:
                    cookie.expires = min(when, now + MAX_AGE_LIMIT)
            elif key == "domain" and arg.removeprefix("."):
                domain = arg.removeprefix(".").lower()     # §5.2.3; the last one counts
            elif key == "path" and arg.startswith("/"):
                cookie.path = arg
            elif key == "secure":
                cookie.secure = True
            elif key == "httponly":
                cookie.http_only = True
        if domain is not None and is_public_suffix(domain):
            if domain != host:
                return None                          # §5.3 step 5: a public suffix
            domain = None                            # the host itself: host-only
        if domain is not None:
            if not domain_matches(host, domain):
                return None                          # §5.3 step 6: not for this host
            cookie.domain, cookie.host_only = domain, False
        if max_age is not None:
            cookie.expires = now + max_age if max_age > 0 else now - 1
        key = (cookie.domain, cookie.path, cookie.name)
        if cookie.expires is not None and cookie.expires <= now:
            self.cookies.pop(key, None)              # an expiry in the past deletes it
            return None
        self.cookies[key] = cookie
        return cookie

    def header(self, host: str, path: str, now: float, secure: bool = False) -> str | None:
        """The ``Cookie`` header for a request, or None when no cookie applies."""
        host = host.lower()
        for key in [k for k, c in self.cookies.items() if c.expires is not None and c.expires <= now]:
            del self.cookies[key]
        chosen = [c for c in self.cookies.values()
                  if (host == c.domain if c.host_only else domain_matches(host, c.domain))
                  and path_matches(path, c.path) and (secure or not c.secure)]
        chosen.sort(key=lambda c: (-len(c.path), c.created))
        return "; ".join(f"{c.name}={c.value}" for c in chosen) or None
