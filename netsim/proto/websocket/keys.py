"""The opening handshake's key and accept (RFC 6455 §4.1, §4.2.2): a client's 16 random
bytes in base64, and the server's proof that it read them, base64(SHA-1(key + GUID)).
"""

from __future__ import annotations

import base64
import random

from wsproto.utilities import generate_accept_token

#: The key in RFC 6455 §1.3's example.
RFC_SAMPLE_KEY = "dGhlIHNhbXBsZSBub25jZQ=="


def accept_for(key: str) -> str:
    return generate_accept_token(key.encode()).decode()


def new_key(rng: random.Random) -> str:
    """A Sec-WebSocket-Key: 16 random bytes, base64 (§4.1)."""
    return base64.b64encode(rng.randbytes(16)).decode()
