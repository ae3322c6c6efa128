"""What the mail applications share: ports, dates in simulated time and a message
body's hash."""

from __future__ import annotations

import hashlib

from netsim.proto.mail.headers import mail_date as sim_date

SMTP, SUBMISSION, POP3, IMAP = 25, 587, 110, 143
#: Implicit TLS (RFC 8314 §7): submission over TLS, IMAP and POP3 over TLS.
SMTPS, IMAPS, POP3S = 465, 993, 995

__all__ = ["IMAP", "IMAPS", "POP3", "POP3S", "SMTP", "SMTPS", "SUBMISSION", "body_sha256",
           "sim_date"]


def body_sha256(data: bytes) -> str:
    """SHA-256 of a message's body: what follows the header's blank line."""
    end = data.find(b"\r\n\r\n")
    return hashlib.sha256(b"" if end < 0 else data[end + 4:]).hexdigest()
