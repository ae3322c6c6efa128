"""Dates and delta-seconds as an HTTP client reads them from a server's headers, with no
I/O: digits are ASCII digits (``int()`` also reads '٣' and '²'), numbers too large to
hold are capped rather than overflowing a float, and a date that is no date is None.

- :func:`parse_http_date`: an HTTP-date (RFC 9110 §5.6.7) — IMF-fixdate, and the
  obsolete RFC 850 and asctime forms a recipient must still accept — for ``Date``,
  ``Expires``, ``Last-Modified``. RFC 9111 §5.3: an invalid ``Expires`` means stale.
- :func:`parse_cookie_date`: a cookie's ``Expires`` by RFC 6265 §5.1.1's algorithm,
  which takes what servers really send (``Wed, 09-Jun-2021 10:18:14 GMT``, two-digit
  years).
- :func:`delta_seconds`: RFC 9111 §1.2.2's ``delta-seconds`` (``max-age``, ``Age``):
  past 2³¹ a cache "MUST consider the value to be 2147483648".
"""

from __future__ import annotations

import re
from datetime import datetime, timezone

from netsim.proto.wallclock import EPOCH

#: RFC 9111 §1.2.2: the value a too-large delta-seconds counts as.
DELTA_CAP = 2 ** 31

_MONTHS = {m: n for n, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)}
_DAY = r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)"
_MONTH = r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
_TIME = r"([0-9]{2}):([0-9]{2}):([0-9]{2})"
_IMF_FIXDATE = re.compile(rf"{_DAY}, ([0-9]{{2}}) {_MONTH} ([0-9]{{4}}) {_TIME} GMT\Z")
_RFC850 = re.compile(r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), "
                     rf"([0-9]{{2}})-{_MONTH}-([0-9]{{2}}) {_TIME} GMT\Z")
_ASCTIME = re.compile(rf"{_DAY} {_MONTH} ([0-9 ][0-9]) {_TIME} ([0-9]{{4}})\Z")


def _seconds(year: int, month: int, day: int, hour: int, minute: int, second: int) -> float | None:
    """Simulated seconds of a UTC calendar time (None if there is no such time)."""
    try:
        moment = datetime(year, month, day, hour, minute, second, tzinfo=timezone.utc)
    except ValueError:                      # 31 February, hour 24, year 0
        return None
    return moment.timestamp() - EPOCH


def parse_http_date(text: str | None) -> float | None:
    """An HTTP-date → simulated seconds, or None if ``text`` is not one."""
    if not text:
        return None
    text = text.strip()
    match = _IMF_FIXDATE.match(text)
    if match:
        day, month, year, hour, minute, second = match.groups()
    elif (match := _RFC850.match(text)):
        day, month, year, hour, minute, second = match.groups()
        # RFC 9110 §5.6.7: a two-digit year more than 50 years ahead is in the past century.
        year = str(2000 + int(year)) if int(year) < 50 else str(1900 + int(year))
    elif (match := _ASCTIME.match(text)):
        month, day, hour, minute, second, year = match.groups()
    else:
        return None
    return _seconds(int(year), _MONTHS[month.lower()], int(day), int(hour), int(minute),
                    int(second))


_COOKIE_DELIMITER = re.compile(r"[\x09\x20-\x2f\x3b-\x40\x5b-\x60\x7b-\x7e]+")
_COOKIE_TIME = re.compile(r"([0-9]{1,2}):([0-9]{1,2}):([0-9]{1,2})(?:[^0-9].*)?\Z", re.S)
_COOKIE_DAY = re.compile(r"([0-9]{1,2})(?:[^0-9].*)?\Z", re.S)
_COOKIE_YEAR = re.compile(r"([0-9]{2,4})(?:[^0-9].*)?\Z", re.S)


def parse_cookie_date(text: str) -> float | None:
    """A cookie-date (RFC 6265 §5.1.1) → simulated seconds, or None."""
    time = day = month = year = None
    for token in _COOKIE_DELIMITER.split(text):
        if not token:
            continue
        if time is None and (m := _COOKIE_TIME.match(token)):
            time = tuple(int(g) for g in m.groups())
        elif day is None and (m := _COOKIE_DAY.match(token)):
            day = int(m.group(1))
        elif month is None and token[:3].lower() in _MONTHS:
            month = _MONTHS[token[:3].lower()]
        elif year is None and (m := _COOKIE_YEAR.match(token)):
            year = int(m.group(1))
    if time is None or day is None or month is None or year is None:
        return None
    if 70 <= year <= 99:
        year += 1900
    elif 0 <= year <= 69:
        year += 2000
    hour, minute, second = time
    if not 1 <= day <= 31 or year < 1601 or hour > 23 or minute > 59 or second > 59:
        return None
    return _seconds(year, month, day, hour, minute, second)


def delta_seconds(text: str | None, *, signed: bool = False, cap: int = DELTA_CAP) -> int | None:
    """``1*DIGIT`` (with a leading '-' if ``signed``: a cookie's Max-Age) → an int at
    most ``cap``, or None if ``text`` is not one."""
    if text is None:
        return None
    negative = signed and text.startswith("-")
    digits = text[1:] if negative else text
    if not digits or not (digits.isascii() and digits.isdigit()):
        return None
    digits = digits.lstrip("0") or "0"
    # Past ten digits it is past any cap; int() of thousands of digits is refused anyway.
    value = cap if len(digits) > 10 else min(int(digits), cap)
    return -value if negative else value
