"""A browser's cookie jar (RFC 6265), with no I/O: ``Set-Cookie`` read from responses,
``Cookie`` written for requests.

Host-only cookies unless ``Domain`` widens them to subdomains (§5.3 step 6); ``Path``
prefix matching (§5.1.4) with the default path of the request (§5.1.4); ``Max-Age`` before
``Expires`` (§5.3 step 3); a cookie whose expiry has passed is removed; ``Secure`` cookies
are not sent over http://. Cookies are sent longest path first (§5.4 step 2).
"""

from __future__ import annotations

from dataclasses import dataclass

from netsim.proto.http.site import parse_http_date


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


def domain_matches(host: str, domain: str) -> bool:
    return host == domain or host.endswith("." + domain)


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
        cookie = Cookie(name, value, host.lower(), path=default_path(path), created=now)
        max_age = None
        for attribute in attributes:
            key, _, arg = attribute.strip().partition("=")
            key, arg = key.strip().lower(), arg.strip()
            if key == "max-age":
                try:
                    max_age = int(arg)
                except ValueError:
                    continue
            elif key == "expires" and max_age is None:
                when = parse_http_date(arg)
                if when is not None:
                    cookie.expires = when
            elif key == "domain" and arg:
                domain = arg.lstrip(".").lower()
                if not domain_matches(host.lower(), domain):
                    return None                      # §5.3 step 6: not for this host
                cookie.domain, cookie.host_only = domain, False
            elif key == "path" and arg.startswith("/"):
                cookie.path = arg
            elif key == "secure":
                cookie.secure = True
            elif key == "httponly":
                cookie.http_only = True
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
