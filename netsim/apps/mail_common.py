"""What the mail applications share: ports, dates in simulated time, a message body's
hash, and the loop that carries a session engine's bytes over a TCP socket."""

from __future__ import annotations

import datetime
import hashlib
from email.utils import format_datetime

from netsim.proto.wallclock import EPOCH

SMTP, SUBMISSION, POP3, IMAP = 25, 587, 110, 143


def sim_date(seconds: float) -> str:
    """RFC 5322 date of a simulated instant (the run starts 2024-01-01 00:00 UTC)."""
    return format_datetime(datetime.datetime.fromtimestamp(EPOCH + seconds, datetime.timezone.utc))


def body_sha256(data: bytes) -> str:
    """SHA-256 of a message's body: what follows the header's blank line."""
    end = data.find(b"\r\n\r\n")
    return hashlib.sha256(b"" if end < 0 else data[end + 4:]).hexdigest()
