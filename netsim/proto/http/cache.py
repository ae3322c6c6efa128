"""A browser's private HTTP cache (RFC 9111), with no I/O.

What it stores: responses to GET with a status cacheable by default (RFC 9110 §15.1) and
no ``Cache-Control: no-store``. How long a stored response is fresh (§4.2.1): ``max-age``,
else ``Expires`` minus ``Date`` (minus the time it was received when there is no valid
``Date``, as RFC 9110 §6.6.1 has a recipient supply one), else — with a ``Last-Modified``
and nothing explicit — the heuristic browsers use, 10 % of the time since the last
modification (§4.2.2). Its age (§4.2.3) counts from when the request went out. A fresh
response is used with no traffic; a stale one — or one marked ``no-cache`` — is
revalidated with ``If-None-Match`` / ``If-Modified-Since`` (§4.3.1), and a ``304 Not
Modified`` refreshes it (§4.3.4).

A header given on several lines is one comma-separated list (RFC 9110 §5.3): a
``Cache-Control: max-age=3600`` line and a ``Cache-Control: no-cache`` line are both
obeyed. A directive or an ``Expires`` given more than once with no way to tell which
was meant makes the response stale (§4.2.1 allows that or the first; stale is the safe
one). A response with ``Vary`` (§4.1) is used only for a request whose nominated
headers match those of the request that fetched it; ``Vary: *`` never matches. On a
mismatch Chrome revalidates with ``If-None-Match`` alone (the stored ``Last-Modified``
says nothing of another variant) and fetches when there is no ETag; so does this cache,
keeping one response per URL as Chrome's does.

Numbers and dates are read as :mod:`netsim.proto.http.dates` reads them: ASCII digits,
capped, an invalid date stale.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from netsim.proto.http.dates import delta_seconds, parse_http_date

#: Statuses a cache may store without explicit freshness (RFC 9110 §15.1).
CACHEABLE = {200, 203, 204, 206, 300, 301, 308, 404, 405, 410, 414, 501}
HEURISTIC_FRACTION = 0.1


def field_values(headers, name: str) -> list[str]:
    """Every line of header ``name``, in order."""
    name = name.lower()
    return [v for k, v in headers if k.lower() == name]


def combined(headers, name: str) -> str | None:
    """Header ``name``'s lines as the one list they are (RFC 9110 §5.3), None if absent."""
    values = field_values(headers, name)
    return ", ".join(values) if values else None


def directive_list(value: str | None) -> list[tuple[str, str | None]]:
    """``max-age=60, no-cache="Set-Cookie, X"`` → ``[("max-age", "60"), ("no-cache",
    "Set-Cookie, X")]``: names in lower case, a quoted-string argument unquoted and its
    commas kept (RFC 9111 §5.2, RFC 9110 §5.6.4)."""
    out: list[tuple[str, str | None]] = []
    text, i, n = value or "", 0, len(value or "")
    while i < n:
        end = i
        while end < n and text[end] not in ",=":
            end += 1
        name = text[i:end].strip().lower()
        arg = None
        i = end
        if i < n and text[i] == "=":
            i += 1
            while i < n and text[i] in " \t":
                i += 1
            if i < n and text[i] == '"':
                chars, i = [], i + 1
                while i < n and text[i] != '"':
                    if text[i] == "\\" and i + 1 < n:
                        i += 1
                    chars.append(text[i])
                    i += 1
                arg = "".join(chars)
                while i < n and text[i] != ",":
                    i += 1
            else:
                end = text.find(",", i)
                end = n if end < 0 else end
                arg, i = text[i:end].strip(), end
        i += 1                                  # the comma
        if name:
            out.append((name, arg))
    return out


def cache_directives(value: str | None) -> dict[str, str | None]:
    """``Cache-Control: max-age=60, no-cache`` → ``{"max-age": "60", "no-cache": None}``
    (the first of a directive given twice)."""
    out: dict[str, str | None] = {}
    for name, arg in directive_list(value):
        out.setdefault(name, arg)
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
    #: The request's values of the headers ``Vary`` names (§4.1), normalised.
    selecting: dict[str, str | None] = field(default_factory=dict)

    def header(self, name: str) -> str | None:
        """Header ``name``, its lines combined into one list (RFC 9110 §5.3)."""
        return combined(self.headers, name)

    @property
    def directives(self) -> dict[str, str | None]:
        return cache_directives(self.header("Cache-Control"))

    def freshness_lifetime(self) -> tuple[float, str]:
        """Seconds it stays fresh, and from what (§4.2.1)."""
        given = directive_list(self.header("Cache-Control"))
        ages = [arg for name, arg in given if name == "max-age"]
        if len(ages) > 1:
            return 0.0, "max-age given twice"        # §4.2.1: stale rather than guess
        if ages:
            # delta-seconds (§1.2.2): ASCII digits, capped at 2³¹; anything else is stale.
            return float(delta_seconds(ages[0]) or 0), "max-age"
        date = parse_http_date(self.header("Date") or "")
        # RFC 9110 §6.6.1: no valid Date, and the recipient's clock says when it came.
        generated = date if date is not None else self.response_time
        expires = field_values(self.headers, "Expires")
        if len(expires) > 1:
            return 0.0, "Expires given twice"
        if expires:
            when = parse_http_date(expires[0])
            if when is None:
                return 0.0, "Expires"                 # an invalid Expires means already stale
            return max(0.0, when - generated), "Expires"
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

    def vary(self) -> list[str]:
        """The request headers ``Vary`` names, in lower case (``*`` for any)."""
        return [name.strip().lower() for name in (self.header("Vary") or "").split(",")
                if name.strip()]

    def varies_from(self, request_headers) -> str | None:
        """Why this response may not answer a request with ``request_headers`` (§4.1),
        or None if it may."""
        for name in self.vary():
            if name == "*":
                return "Vary: * matches no request"
            if _normalised(request_headers, name) != self.selecting.get(name):
                return f"Vary: {name} differs"
        return None

    def validators(self) -> list[tuple[str, str]]:
        out = []
        if self.header("ETag"):
            out.append(("If-None-Match", self.header("ETag")))
        if self.header("Last-Modified"):
            out.append(("If-Modified-Since", self.header("Last-Modified")))
        return out


def _normalised(headers, name: str) -> str | None:
    """A request header's value as §4.1 compares it: lines combined, spaces around its
    commas dropped."""
    value = combined(headers, name)
    return None if value is None else ",".join(part.strip() for part in value.split(","))


@dataclass(frozen=True)
class Lookup:
    """What the cache says about a request: ``fresh`` (use it, no traffic), ``stale``
    (revalidate with ``conditional`` headers, or fetch if there are none) or ``miss``."""
    state: str
    stored: Stored | None = None
    why: str = ""
    #: Another variant is stored (§4.1): only its ETag may be offered (Chrome's rule).
    other_variant: bool = False

    @property
    def conditional(self) -> list[tuple[str, str]]:
        if self.stored is None:
            return []
        validators = self.stored.validators()
        if self.other_variant:
            return [(k, v) for k, v in validators if k == "If-None-Match"]
        return validators


class HttpCache:
    def __init__(self) -> None:
        self.entries: dict[str, Stored] = {}

    def lookup(self, method: str, url: str, now: float, request_headers=()) -> Lookup:
        """``request_headers``: the request's, as (name, value) pairs, for ``Vary``."""
        if method not in ("GET", "HEAD"):
            return Lookup("miss", why=f"{method} is not served from a cache")
        stored = self.entries.get(url)
        if stored is None:
            return Lookup("miss", why="not in the cache")
        mismatch = stored.varies_from(request_headers)
        if mismatch is not None:
            if stored.header("ETag") is None:
                return Lookup("miss", why=f"{mismatch}: fetch it")
            return Lookup("stale", stored, f"{mismatch}: revalidate its ETag",
                          other_variant=True)
        if "no-cache" in stored.directives:
            return Lookup("stale", stored, "no-cache: revalidate every time")
        lifetime, source = stored.freshness_lifetime()
        age = stored.age(now)
        if age < lifetime:
            return Lookup("fresh", stored, f"age {age:.0f} s < {source} {lifetime:.0f} s")
        return Lookup("stale", stored, f"age {age:.0f} s ≥ {source} {lifetime:.0f} s")

    def store(self, method: str, url: str, status: int, reason: str,
              headers: list[tuple[str, str]], body: bytes,
              request_time: float, response_time: float, request_headers=()) -> bool:
        """Keep a response if it may be kept (§3); ``True`` if it was."""
        cc = cache_directives(combined(headers, "Cache-Control"))
        if method != "GET" or status not in CACHEABLE or "no-store" in cc:
            if "no-store" in cc:
                self.entries.pop(url, None)
            return False
        stored = Stored(url, status, reason, list(headers), body, request_time, response_time)
        stored.selecting = _selecting(stored, request_headers)
        self.entries[url] = stored
        return True

    def refresh(self, url: str, headers: list[tuple[str, str]],
                request_time: float, response_time: float,
                request_headers=()) -> Stored | None:
        """A 304 for a stored response: its headers updated from the 304's (§4.3.4); it
        now answers the request that revalidated it (its ``Vary`` values are that one's)."""
        stored = self.entries.get(url)
        if stored is None:
            return None
        new = {k.lower() for k, _ in headers}
        stored.headers = [(k, v) for k, v in stored.headers if k.lower() not in new] + list(headers)
        stored.request_time, stored.response_time = request_time, response_time
        stored.selecting = _selecting(stored, request_headers)
        return stored

    def invalidate(self, url: str) -> None:
        """An unsafe method's success makes the stored response invalid (§4.4)."""
        self.entries.pop(url, None)


def _selecting(stored: Stored, request_headers) -> dict[str, str | None]:
    return {name: _normalised(request_headers, name) for name in stored.vary() if name != "*"}
