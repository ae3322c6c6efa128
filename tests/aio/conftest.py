"""What every test of netsim.aio shares: two hosts across a router, and the count of
real socket operations (there must be none: the suite's guard in tests/conftest.py
patches the socket functions; this counts what the interpreter is asked for at all)."""

from __future__ import annotations

import sys
import threading

import pytest

import netsim.aio
from netsim import line


class _SocketCalls:
    """Audit events (PEP 578) named socket.* in the main thread while counting is on."""

    def __init__(self) -> None:
        self.counting = False
        self.events: list[str] = []
        self.thread = threading.get_ident()
        sys.addaudithook(self._audit)

    def _audit(self, event, args) -> None:
        if self.counting and event.startswith("socket.") and threading.get_ident() == self.thread:
            self.events.append(event)


_CALLS = _SocketCalls()


@pytest.fixture
def socket_calls():
    """The real socket operations attempted during the test: expected []."""
    _CALLS.events.clear()
    _CALLS.counting = True
    yield _CALLS.events
    _CALLS.counting = False


@pytest.fixture
def hosts():
    """``(net, alice, bob)``: alice — r1 — bob, 10 ms a link (a 40 ms round trip)."""
    net, (alice, _r1, bob) = line(["alice", "r1", "bob"], delay="10ms")
    return net, alice, bob


def unhandled(*nodes) -> list:
    """What the hosts' loops reported through call_exception_handler."""
    return [c for n in nodes for c in netsim.aio.loop_for(n).unhandled]
