"""Suite-wide guards and helpers.

* No test may touch the real network (DESIGN.md principle 9): every socket
  operation that could reach one, and Scapy's send/receive functions, raise.
* ``tshark`` reads captures. Without it the capture checks are skipped with a loud
  reason — except under CI (``CI=true``), where a missing tshark fails them.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"


class RealNetworkTouched(AssertionError):
    pass


def _forbidden(name):
    def guard(*args, **kwargs):
        raise RealNetworkTouched(f"{name} was called: netsim must never touch the real network")
    return guard


_SOCKET_CALLS = ("connect", "connect_ex", "bind", "listen", "send", "sendto", "sendall",
                 "sendmsg", "recv", "recvfrom")
_SCAPY_CALLS = ("send", "sendp", "sr", "sr1", "srp", "srp1", "sniff", "sendpfast")


@pytest.fixture(autouse=True)
def no_real_network(monkeypatch):
    for name in _SOCKET_CALLS:
        monkeypatch.setattr(socket.socket, name, _forbidden(f"socket.{name}"))
    monkeypatch.setattr(socket, "create_connection", _forbidden("socket.create_connection"))
    monkeypatch.setattr(socket, "getaddrinfo", _forbidden("socket.getaddrinfo"))
    # Scapy is loaded the way netsim loads it (offline) before its senders are guarded.
    from netsim.wire import scapy_layers
    scapy_layers.load()
    import scapy.sendrecv as sendrecv
    for name in _SCAPY_CALLS:
        if hasattr(sendrecv, name):
            monkeypatch.setattr(sendrecv, name, _forbidden(f"scapy.{name}"))
    yield


# -- tshark ------------------------------------------------------------------------------------

TSHARK = shutil.which("tshark")


def require_tshark():
    if TSHARK:
        return TSHARK
    message = ("tshark is NOT INSTALLED: capture checks cannot run "
               "(apt-get install -y tshark; .ci/run installs it)")
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip("!!! " + message)


def tshark_fields(pcap: Path, *fields: str, display_filter: str | None = None) -> list[list[str]]:
    """Rows of the given fields, one per frame (after the filter)."""
    cmd = [require_tshark(), "-n", "-r", str(pcap), "-T", "fields", "-E", "separator=\t", "-E", "occurrence=f"]
    for field in fields:
        cmd += ["-e", field]
    if display_filter:
        cmd += ["-Y", display_filter]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True,
                         env={**os.environ, "LC_ALL": "C"}).stdout
    return [line.split("\t") for line in out.splitlines()]


# Warnings and errors only: traceroute's low TTLs raise "notes" on purpose.
PROBLEMS = "_ws.malformed || _ws.expert.severity >= 0x00600000"


def tshark_problems(pcap: Path) -> list[str]:
    """Frames tshark finds malformed or warns about, as 'frame: message' lines."""
    rows = tshark_fields(pcap, "frame.number", "_ws.expert.message", "_ws.malformed",
                         display_filter=PROBLEMS)
    return [" ".join(r) for r in rows]


@pytest.fixture
def tshark():
    return require_tshark()
