"""Quantities written the way people write them: ``100Mbps``, ``2ms``, ``1%``, ``64KiB``.

Each parser accepts a number (already in base units: bits/s, seconds, bytes, a
fraction) or a string with a unit, and raises :class:`ValueError` saying what it
expected. Decimal prefixes are powers of 1000, binary ones (``Ki``, ``Mi``) powers
of 1024, as the SI and IEC define them.
"""

from __future__ import annotations

import math
import re

#: The longest duration netsim accepts: a capture stamps seconds in 32 bits.
MAX_SECONDS = 2**32 - 1

_NUMBER = r"\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*"

_RATE_UNITS = {"bps": 1, "kbps": 1e3, "mbps": 1e6, "gbps": 1e9, "tbps": 1e12,
               "b/s": 1, "kb/s": 1e3, "mb/s": 1e6, "gb/s": 1e9}
_TIME_UNITS = {"s": 1.0, "sec": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9,
               "min": 60.0, "m": 60.0, "h": 3600.0}
_SIZE_UNITS = {"b": 1, "byte": 1, "bytes": 1, "kb": 1000, "mb": 1000**2, "gb": 1000**3,
               "kib": 1024, "mib": 1024**2, "gib": 1024**3}

RATE_PATTERN = r"^\s*[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?\s*([kKmMgGtT]?(bps|b/s))$"
TIME_PATTERN = r"^\s*[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?\s*(s|sec|ms|us|µs|ns|min|m|h)$"
SIZE_PATTERN = r"^\s*[0-9]*\.?[0-9]+\s*([bB]|bytes?|[kKmMgG]i?[bB])$"
#: A string meant as a size, right or wrong ("12KiB", "3 QB"): a number and a short unit.
SIZE_LIKE = re.compile(r"^\s*\d+(\.\d+)?\s*[A-Za-z]{1,4}\s*$")
FRACTION_PATTERN = r"^\s*[0-9]*\.?[0-9]+\s*%?$"


def _parse(text: object, units: dict[str, float], what: str, example: str,
           bare_ok: bool) -> float:
    if isinstance(text, bool):
        raise ValueError(f"expected {what} such as {example!r}, got {text!r}")
    if isinstance(text, (int, float)):
        if not math.isfinite(text):
            raise ValueError(f"expected {what} such as {example!r}, got {text!r} (not a finite number)")
        if not bare_ok:
            raise ValueError(f"expected {what} with a unit, such as {example!r}, got {text!r}")
        return float(text)
    if not isinstance(text, str):
        raise ValueError(f"expected {what} such as {example!r}, got {text!r}")
    m = re.fullmatch(_NUMBER + r"([A-Za-zµ/%]*)\s*", text)
    if not m:
        raise ValueError(f"expected {what} such as {example!r}, got {text!r}")
    value, unit = float(m.group(1)), m.group(2)
    if not math.isfinite(value):
        raise ValueError(f"expected {what} such as {example!r}, got {text!r} (not a finite number)")
    if not unit:
        if bare_ok:
            return value
        raise ValueError(f"expected {what} with a unit, such as {example!r}, got {text!r}")
    # Bytes and bits differ only in case ("MB" vs "Mb"); keep the case for sizes' "b".
    factor = units.get(unit) if unit in units else units.get(unit.lower())
    if factor is None:
        raise ValueError(f"unknown unit {unit!r} in {text!r}; expected {what} such as {example!r}")
    return value * factor


def parse_rate(text: object) -> float:
    """A link rate in bits per second: ``100Mbps``, ``1Gbps``, ``56kbps``, or a number."""
    rate = _parse(text, _RATE_UNITS, "a rate", "100Mbps", bare_ok=True)
    if rate <= 0:
        raise ValueError(f"a rate must be positive, got {text!r}")
    return rate


def parse_time(text: object) -> float:
    """A duration in seconds: ``2ms``, ``1.5s``, ``30us``, or a number of seconds."""
    seconds = _parse(text, _TIME_UNITS, "a duration", "2ms", bare_ok=True)
    if seconds < 0:
        raise ValueError(f"a duration cannot be negative, got {text!r}")
    if seconds > MAX_SECONDS:
        raise ValueError(f"{text!r} is longer than netsim runs (at most 2³² − 1 s, what a "
                         "capture's timestamps hold)")
    return seconds


def parse_interval(text: object) -> float:
    """A duration that must be longer than zero: a period, a timeout, a run's length."""
    seconds = parse_time(text)
    if seconds <= 0:
        raise ValueError(f"this duration must be longer than 0, got {text!r}")
    return seconds


def parse_size(text: object) -> int:
    """A size in bytes: ``64KiB``, ``1500B``, ``2MB``, or a number of bytes."""
    size = _parse(text, _SIZE_UNITS, "a size", "64KiB", bare_ok=True)
    if size < 0 or size != int(size):
        raise ValueError(f"a size must be a whole number of bytes, got {text!r}")
    return int(size)


def parse_fraction(text: object) -> float:
    """A probability: ``1%``, ``0.5%``, or a number between 0 and 1."""
    if isinstance(text, str) and text.strip().endswith("%"):
        value = _parse(text.strip()[:-1], {}, "a percentage", "1%", bare_ok=True) / 100.0
    else:
        value = _parse(text, {}, "a fraction", "1%", bare_ok=True)
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"expected a fraction between 0 and 1 (or 0% to 100%), got {text!r}")
    return value


def format_time(seconds: float) -> str:
    """A duration the way a person reads it: ``1.5 ms``, ``2 s``, ``40 µs``."""
    if seconds >= 1 or seconds == 0:
        return f"{seconds:g} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:g} ms"
    if seconds >= 1e-6:
        return f"{seconds * 1e6:g} µs"
    return f"{seconds * 1e9:g} ns"


def format_rate(bps: float) -> str:
    """A rate the way a person reads it: ``100 Mbps``."""
    for factor, unit in ((1e12, "Tbps"), (1e9, "Gbps"), (1e6, "Mbps"), (1e3, "kbps")):
        if bps >= factor:
            return f"{bps / factor:g} {unit}"
    return f"{bps:g} bps"
