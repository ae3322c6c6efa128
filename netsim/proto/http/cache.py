"""A browser's private HTTP cache (RFC 9111), with no I/O.

What it stores: responses to GET with a status cacheable by default (RFC 9110 §15.1) and
no ``Cache-Control: no-store``. How long a stored response is fresh (§4.2.1): ``max-age``,
else ``Expires`` minus ``Date``, else — with a ``Last-Modified`` and nothing explicit — the
heuristic browsers use, 10 % of the time since the last modification (§4.2.2). Its age
(§4.2.3) counts from when the request went out. A fresh response is used with no traffic;
a stale one — or one marked ``no-cache`` — is revalidated with ``If-None-Match`` /
``If-Modified-Since`` (§4.3.1), and a ``304 Not Modified`` refreshes it (§4.3.4).
Numbers and dates are read as :mod:`netsim.proto.http.dates` reads them: ASCII digits,
capped, an invalid date stale.
"""

from __future__ import annotations

from dataclasses import dataclass

from netsim.proto.http.dates import delta_seconds, parse_http_date

#: Statuses a cache may store without explicit freshness (RFC 9110 §15.1).
CACHEABLE = {200, 203, 204, 206, 300, 301, 308, 404, 405, 410, 414, 501}
HEURISTIC_FRACTION = 0.1


def cache_directives(value: str | None) -> dict[str, str | None]:
    """``Cache-Control: max-age=60, no-cache`` → ``{"max-age": "60", "no-cache": None}``."""
    out: dict[str, str | None] = {}
    for part in (value or "").split(","):
        name, eq, arg = part.strip().partition("=")
        if name:
            out[name.lower()] = arg.strip('"') if eq else None
    return out


@dataclass
class Stored:
    url: str
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes
    request_time: float
    response_time: float

    def header(self, name: str) -> str | None:
        name = name.lower()
        return next((v for k, v in self.headers if k.lower() == name), None)

    @property
    def directives(self) -> dict[str, str | None]:
        return cache_directives(self.header("Cache-Control"))

    def freshness_lifetime(self) -> tuple[float, str]:
        """Seconds it stays fresh, and from what (§4.2.1)."""
        cc = self.directives
        if "max-age" in cc:
            # delta-seconds (§1.2.2): ASCII digits, capped at 2³¹; anything else is stale.
            return float(delta_seconds(cc["max-age"]) or 0), "max-age"
        date = parse_http_date(self.header("Date") or "")
        expires = self.header("Expires")
        if expires is not None:
            when = parse_http_date(expires)
            if when is None or date is None:
                return 0.0, "Expires"                 # an invalid Expires means already stale
            return max(0.0, when - date), "Expires"
        modified = parse_http_date(self.header("Last-Modified") or "")
        if modified is not None and date is not None:
            return max(0.0, (date - modified) * HEURISTIC_FRACTION), "heuristic"
        return 0.0, "none"

    def age(self, now: float) -> float:
        """Current age (§4.2.3), with the server's Date and the request's send time."""
        date = parse_http_date(self.header("Date") or "")
        apparent = max(0.0, self.response_time - date) if date is not None else 0.0
        age_value = float(delta_seconds((self.header("Age") or "0").strip()) or 0)
        corrected = age_value + (self.response_time - self.request_time)
        return max(apparent, corrected) + (now - self.response_time)

    def validators(self) -> list[tuple[str, str]]:
        out = []
        if self.header("ETag"):
            out.append(("If-None-Match", self.header("ETag")))
        if self.header("Last-Modified"):
            out.append(("If-Modified-Since", self.header("Last-Modified")))
        return out


@dataclass(frozen=True)
class Lookup:
    """What the cache says about a request: ``fresh`` (use it, no traffic), ``stale``
    (revalidate with ``conditional`` headers, or fetch if there are none) or ``miss``."""
    state: str
    stored: Stored | None = None
    why: str = ""

    @property
    def conditional(self) -> list[tuple[str, str]]:
        return self.stored.validators() if self.stored is not None else []


class HttpCache:
    def __init__(self) -> None:
        self.entries: dict[str, Stored] = {}

    def lookup(self, method: str, url: str, now: float) -> Lookup:
        if method not in ("GET", "HEAD"):
            return Lookup("miss", why=f"{method} is not served from a cache")
        stored = self.entries.get(url)
        if stored is None:
            return Lookup("miss", why="not in the cache")
        if "no-cache" in stored.directives:
            return Lookup("stale", stored, "no-cache: revalidate every time")
        lifetime, source = stored.freshness_lifetime()
        age = stored.age(now)
        if age < lifetime:
            return Lookup("fresh", stored, f"age {age:.0f} s < {source} {lifetime:.0f} s")
        return Lookup("stale", stored, f"age {age:.0f} s ≥ {source} {lifetime:.0f} s")

    def store(self, method: str, url: str, status: int, reason: str,
              headers: list[tuple[str, str]], body: bytes,
              request_time: float, response_time: float) -> bool:
        """Keep a response if it may be kept (§3); ``True`` if it was."""
        cc = cache_directives(next((v for k, v in headers if k.lower() == "cache-control"), None))
        if method != "GET" or status not in CACHEABLE or "no-store" in cc:
            if "no-store" in cc:
                self.entries.pop(url, None)
            return False
        self.entries[url] = Stored(url, status, reason, list(headers), body,
                                   request_time, response_time)
        return True

    def refresh(self, url: str, headers: list[tuple[str, str]],
                request_time: float, response_time: float) -> Stored | None:
        """A 304 for a stored response: its headers updated from the 304's (§4.3.4)."""
        stored = self.entries.get(url)
        if stored is None:
            return None
        new = {k.lower() for k, _ in headers}
        stored.headers = [(k, v) for k, v in stored.headers if k.lower() not in new] + list(headers)
        stored.request_time, stored.response_time = request_time, response_time
        return stored

    def invalidate(self, url: str) -> None:
        """An unsafe method's success makes the stored response invalid (§4.4)."""
        self.entries.pop(url, None)
