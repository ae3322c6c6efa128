"""Hostile peers for netsim's applications, built with the public API.

A *case* is a small two-host scenario in which one client app talks to one server
app. :func:`record` runs it and keeps every TCP conversation between the two hosts as
*turns* — the bytes one side sent before the other answered. A hostile peer then
takes the place of one side and replays that side's turns, mutated the way a broken
or malicious implementation would send them (:mod:`tests.apps.mutations`):

- :func:`against_client` removes the server app and listens, on every port the client
  used, with a scripted server that answers each connection with its recorded turns;
- :func:`against_server` removes the client app and connects, at the client's start
  time, with a scripted client that sends the recorded turns; the real client is kept
  too, started later, to show that the server goes on serving others.

The scripted peers are SimPy processes in the test (a real peer's own program), not
netsim applications, and always close their connection at the end of the script, so
every app on the netsim side must come to an end: ``finished`` or ``failed`` with a
message, never an exception out of the run.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import yaml

from netsim import parse_scenario
from netsim.wire import headers as h

A_IP, B_IP = "10.0.0.1", "10.0.0.2"
#: How long a scripted peer waits for the other side's next turn.
TURN_WAIT = 1.0


@dataclass(frozen=True)
class Case:
    name: str
    server: dict                   # the server app (on b)
    client: dict                   # the client app (on a), started at 1 s
    extra: tuple = ()              # apps both runs keep (mail to fetch, …)
    at: float = 1.0                # when the client starts
    until: str = "40s"


def scenario_text(apps: list[dict], until: str) -> str:
    data = {"name": "hostile", "seed": 3, "until": until,
            "nodes": {"a": {"kind": "host", "ip": f"{A_IP}/24"},
                      "b": {"kind": "host", "ip": f"{B_IP}/24"}},
            "links": [{"endpoints": ["a", "b"], "delay": "1ms"}],
            "apps": apps}
    return yaml.safe_dump(data, sort_keys=False)


def _apps(case: Case, *, server=True, client=True, client_at=None) -> list[dict]:
    apps = [copy.deepcopy(dict(app)) for app in case.extra]
    if server:
        apps.insert(0, {"node": "b", **copy.deepcopy(case.server)})
    if client:
        apps.append({"node": "a", "at": client_at or f"{case.at}s", **copy.deepcopy(case.client)})
    return apps


# -- recording -----------------------------------------------------------------------------

@dataclass
class Conversation:
    port: int                      # the server's port
    turns: list                    # [("c"|"s", bytes), …]: who sent, what


def record(case: Case) -> tuple[list[Conversation], object]:
    """Every TCP connection a opened to b in the real exchange, in the order opened (and
    the network, to check that the real exchange succeeded)."""
    scenario = parse_scenario(scenario_text(_apps(case), case.until))
    net = scenario.build(seed=3)
    net.run(scenario.until)
    a_ip, b_ip = _ip(A_IP), _ip(B_IP)
    conversations: dict[tuple[int, int], Conversation] = {}
    for rec in net.trace.records():
        if rec.kind != "rx" or rec.protocol == "ARP":
            continue
        data = net.trace.frame_bytes(rec.frame)
        if data[12:14] != b"\x08\x00":
            continue
        hlen, total, _ttl, proto, src, dst = h.parse_ipv4(data)
        if proto != h.IPPROTO_TCP:
            continue
        sport, dport, _seq, _ack, flags, _win, _opts, payload = h.parse_tcp(h.ip_payload(data, hlen, total))
        if src == a_ip and dst == b_ip:
            key, side = (sport, dport), "c"
        elif src == b_ip and dst == a_ip:
            key, side = (dport, sport), "s"
        else:
            continue
        if key not in conversations:
            if side != "c" or not flags & 0x02:
                continue                    # a connection b opened (FTP active data): not ours
            conversations[key] = Conversation(key[1], [])
        if payload:
            turns = conversations[key].turns
            if turns and turns[-1][0] == side:
                turns[-1] = (side, turns[-1][1] + payload)
            else:
                turns.append((side, payload))
    for app in net.apps:
        app.wrap_up()
    return list(conversations.values()), net


def _ip(text: str) -> int:
    return int.from_bytes(bytes(int(p) for p in text.split(".")), "big")


# -- the scripted peers --------------------------------------------------------------------

def _replay(env, sock, turns, me: str):
    """Send my turns; between them wait (a while) for the other side's bytes."""
    for side, data in turns:
        if side == "pause":
            yield env.timeout(3 * TURN_WAIT)      # a quiet connection, then more
            continue
        if side == me:
            if sock.connection.state.name in ("CLOSED", "TIME_WAIT"):
                break
            yield sock.send(data)
            continue
        expected, got = len(data), 0
        while got < expected:
            reading = sock.recv()
            outcome = yield reading | env.timeout(TURN_WAIT)
            if reading not in outcome:
                break
            if not reading.value:
                return
            got += len(reading.value)
    sock.close()


def against_client(case: Case, conversations: list[Conversation]):
    """The client app against a scripted server replaying ``conversations`` (mutated)."""
    scenario = parse_scenario(scenario_text(_apps(case, server=False), case.until))
    net = scenario.build(seed=3)
    server = net.nodes["b"]
    by_port: dict[int, list[Conversation]] = {}
    for conversation in conversations:
        by_port.setdefault(conversation.port, []).append(conversation)

    def listen(port, scripts):
        listener = server.tcp_listen(port)
        k = 0
        while True:
            sock = yield listener.accept()
            turns = scripts[min(k, len(scripts) - 1)].turns
            k += 1
            net.env.process(_replay(net.env, sock, turns, "s"))

    for port, scripts in by_port.items():
        net.env.process(listen(port, scripts))
    net.run(scenario.until)
    for app in net.apps:
        app.wrap_up()
    return net


def against_server(case: Case, conversations: list[Conversation]):
    """The server app against a scripted client sending ``conversations`` (mutated) when
    the real client would have started; the real client starts at 20 s instead and must
    still be served."""
    scenario = parse_scenario(scenario_text(_apps(case, client_at="20s"), case.until))
    net = scenario.build(seed=3)
    client = net.nodes["a"]

    def talk():
        yield net.env.timeout(case.at)
        for conversation in conversations:
            sock = client.tcp_connect(B_IP, conversation.port)
            try:
                yield sock.connected
            except ConnectionError:
                continue
            yield net.env.process(_replay(net.env, sock, conversation.turns, "c"))

    net.env.process(talk())
    net.run(scenario.until)
    for app in net.apps:
        app.wrap_up()
    return net


def ended_badly(net) -> list[str]:
    """Apps that did not come to an end the way a tool does: a client neither finished
    nor failed with a message, or a service that stopped serving."""
    bad = []
    for app in net.apps:
        if app.SERVICE:
            if app.status != "serving":
                bad.append(f"{app.label}: {app.status}")
        elif app.status not in ("finished", "failed"):
            bad.append(f"{app.label}: {app.status}: {app.error}")
        elif app.status == "failed" and not (app.error and app.lines):
            bad.append(f"{app.label}: failed without saying why")
    return bad
