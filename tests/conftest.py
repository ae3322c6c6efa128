"""Suite-wide guards and helpers.

* No test may touch the real network (README design principle 9): every socket
  operation that could reach one, and Scapy's send/receive functions, raise.
* The strict switch is on (``NETSIM_STRICT=1``, inherited by the CLI runs the tests
  start): an exception from an engine that is not a peer's protocol error propagates
  and fails the test instead of failing just its application.
* ``tshark`` reads captures. Without it the capture checks are skipped with a loud
  reason — except under CI (``CI=true``), where a missing tshark fails them.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

# Before netsim runs anything: a bug must fail the test, never hide as an app's failure.
os.environ["NETSIM_STRICT"] = "1"

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"

#: The smallest scenario that does something: two hosts, one link, two pings.
TWO_HOSTS_PING = """
name: tiny
seed: 5
until: 3s
nodes:
  a: {kind: host, ip: 10.0.0.1/24}
  b: {kind: host, ip: 10.0.0.2/24}
links:
  - {endpoints: [a, b], rate: 10Mbps, delay: 5ms}
apps:
  - {node: a, at: 1s, run: ping, target: b, count: 2}
"""


class RealNetworkTouched(AssertionError):
    pass


def _forbidden(name):
    def guard(*args, **kwargs):
        raise RealNetworkTouched(f"{name} was called: netsim must never touch the real network")
    return guard


_SOCKET_CALLS = ("connect", "connect_ex", "bind", "listen", "send", "sendto", "sendall",
                 "sendmsg", "recv", "recvfrom")
_SCAPY_CALLS = ("send", "sendp", "sr", "sr1", "srp", "srp1", "sniff", "sendpfast")


def _loopback_only(name, real):
    """``real``, for addresses on this machine's loopback only (a Unix socket too)."""
    def guard(*args, **kwargs):
        address = args[1] if len(args) > 1 and name.startswith("socket.") else args[0] if args else None
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and host not in ("127.0.0.1", "::1", "localhost") \
                and not host.startswith(("127.", "/")) and host != "":
            raise RealNetworkTouched(f"{name} to {host!r}: only loopback is allowed here")
        return real(*args, **kwargs)
    return guard


@pytest.fixture(autouse=True)
def no_real_network(monkeypatch, request):
    if request.node.get_closest_marker("loopback_cluster"):
        # A Dask scheduler and workers on this machine: loopback TCP between local
        # processes, never beyond. (The simulations they run open no sockets at all.)
        for name in ("connect", "connect_ex", "bind", "sendto"):
            monkeypatch.setattr(socket.socket, name,
                                _loopback_only(f"socket.{name}", getattr(socket.socket, name)))
        monkeypatch.setattr(socket, "create_connection",
                            _loopback_only("create_connection", socket.create_connection))
        monkeypatch.setattr(socket, "getaddrinfo", _loopback_only("getaddrinfo", socket.getaddrinfo))
        yield
        return
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


def tshark_fields(pcap: Path, *fields: str, display_filter: str | None = None,
                  occurrence: str = "f", decrypt: bool = False,
                  out_of_order: bool = False) -> list[list[str]]:
    """Rows of the given fields, one per frame (after the filter); with several values
    of a field in a frame, the first (``occurrence="f"``) or all joined by ``|``."""
    # smtp.decryption: let the SMTP dissector decode AUTH PLAIN (else it warns it did not).
    cmd = [require_tshark(), "-n", "-o", "smtp.decryption:TRUE"]
    # ``out_of_order``: reassemble a stream across a lost and resent segment, as one sets
    # Wireshark to read a lossy capture; without it tshark loses TLS's record boundaries
    # at the hole and shows later segments of ciphertext as bare data (or, by chance, as
    # an SSLv2 header), differently each run as the ciphertext differs.
    if out_of_order:
        cmd += ["-o", "tcp.reassemble_out_of_order:TRUE"]
    # ``decrypt``: the run's key log, where it wrote one, opens its TLS and QUIC as the
    # README says (QUIC without it is only warnings that no secrets are there).
    keys = Path(pcap).parent.parent / "keys.log"
    if decrypt and keys.exists():
        cmd += ["-o", f"tls.keylog_file:{keys}"]
    cmd += ["-r", str(pcap), "-T", "fields", "-E", "separator=\t",
           "-E", f"occurrence={occurrence}", "-E", "aggregator=|"]
    for field in fields:
        cmd += ["-e", field]
    if display_filter:
        cmd += ["-Y", display_filter]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True,
                         env={**os.environ, "LC_ALL": "C"}).stdout
    return [line.split("\t") for line in out.splitlines()]


WARNING = 0x00600000       # expert severities: chat 0x200000, note 0x400000, warn, error 0x800000

#: What loss causes on purpose: Wireshark's retransmission family of TCP analysis.
RETRANSMISSION_FAMILY = ("retransmission", "Duplicate ACK", "out-of-order",
                         "Previous segment(s) not captured")
#: What a slow reader causes on purpose.
ZERO_WINDOW_FAMILY = ("Zero Window", "window specified by the receiver is now completely full",
                      "window update", "ZeroWindowProbe", "Keep-Alive")


def expert_messages(pcap: Path) -> list[tuple[int, int, str]]:
    """Every expert message tshark attaches: (frame, severity, message) — with the run's
    key log, so what is inside TLS and QUIC is checked too."""
    rows = tshark_fields(pcap, "frame.number", "_ws.expert.severity", "_ws.expert.message",
                         "_ws.malformed", display_filter="_ws.expert || _ws.malformed",
                         occurrence="a", decrypt=True)
    found = []
    for row in rows:
        number, severities, messages = row[0], row[1].split("|"), row[2].split("|")
        for severity, message in zip(severities, messages):
            found.append((int(number), int(severity or 0, 0) if severity else 0, message))
        if len(row) > 3 and row[3]:
            found.append((int(number), 0x00800000, "malformed"))
    return found


def tshark_problems(pcap: Path, allowed: tuple[str, ...] = ()) -> list[str]:
    """Malformed frames and expert warnings/errors, except messages containing an
    ``allowed`` text, as 'frame: message' lines."""
    found = expert_messages(pcap)
    # tshark marks a frame malformed when its reassembly raised what an allowed message
    # says (a resent segment overlapping what it holds, with the key log's TLS on).
    excused = {n for n, _sev, m in found
               if "overlaps old data" in m and any(a in m for a in allowed)}
    return [f"{n}: {m}" for n, sev, m in found
            if (sev >= WARNING or m == "malformed") and not any(a in m for a in allowed)
            and not (m == "malformed" and n in excused)]


def tcp_analysis_messages(pcap: Path) -> list[str]:
    """The messages of every frame that has tcp.analysis.flags, any severity."""
    rows = tshark_fields(pcap, "_ws.expert.message", display_filter="tcp.analysis.flags",
                         occurrence="a")
    return [m for row in rows for m in row[0].split("|") if m]


@pytest.fixture
def tshark():
    return require_tshark()


def two_hosts(apps: str, *, name: str = "t", until: str = "5s", link: str = "") -> str:
    """Scenario text: hosts a (10.0.0.1) and b (10.0.0.2) on one link, then ``apps``
    (YAML list items, one per line); ``link`` adds link keys (``", loss: 100%"``)."""
    return (f"name: {name}\nuntil: {until}\nnodes:\n"
            "  a: {kind: host, ip: 10.0.0.1/24}\n  b: {kind: host, ip: 10.0.0.2/24}\n"
            f"links:\n  - {{endpoints: [a, b]{link}}}\napps:\n"
            + "".join(f"  {line.strip()}\n" for line in apps.strip().splitlines()))


def host_and_name_server(name: str, until: str, records: list[str], apps: str) -> str:
    """A scenario of two hosts on one link: ``a``, resolving through ``ns``, and ``ns``
    serving example.com (its SOA, NS and ``ns`` records, then ``records``); ``apps``:
    the scenario's further app lines."""
    zone = ["@ SOA ns admin 1 7200 900 1209600 300", "@ NS ns", "ns A 10.0.1.53", *records]
    return f"""
name: {name}
until: {until}
nodes:
  a: {{kind: host, ip: 10.0.1.10/24, dns: 10.0.1.53}}
  ns: {{kind: host, ip: 10.0.1.53/24}}
links:
  - endpoints: [a, ns]
apps:
  - {{node: ns, run: dns-server, zones: [{{origin: example.com, records: {json.dumps(zone)}}}]}}
{apps}"""
