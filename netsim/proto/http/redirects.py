"""Following a redirect (RFC 9110 §15.4): where to, and with which method.

301 and 302 were meant to keep the method, but browsers have always turned a POST into
a GET for them, and RFC 9110 §15.4.2/§15.4.3 allows it; 303 always means "GET the other
resource" (HEAD stays HEAD); 307 and 308 keep the method and the body (§15.4.8/§15.4.9).
"""

from __future__ import annotations

REDIRECTS = (301, 302, 303, 307, 308)
#: Browsers' limit (Chrome and Firefox: 20).
MAX_REDIRECTS = 20


def redirected(status: int, method: str, body: bytes) -> tuple[str, bytes]:
    """The method and body of the request a redirect with ``status`` leads to."""
    if status == 303 and method != "HEAD":
        return "GET", b""
    if status in (301, 302) and method == "POST":
        return "GET", b""
    return method, body
