"""The application runtime: one driver for every stream engine, its timers and its
error boundary, tested with small engines over a real simulated connection."""

import pytest

from netsim import line
from netsim.apps.base import App
from netsim.errors import PeerError
from netsim.proto.stream import Close, Failed, Send, StreamEngine
from netsim.sim.runtime import StreamDriver, serve


class Echo(StreamEngine):
    """Echoes lines; ``bye`` closes; ``bad`` is a protocol error; ``bug`` a bug."""

    def __init__(self, idle: float | None = None) -> None:
        super().__init__()
        self.idle, self.last, self.got, self.lost = idle, 0.0, [], False

    def start(self, now):
        self.last = now

    def receive(self, data, now):
        self.last = now
        self.got.append(data)
        if data == b"bad":
            raise PeerError("bad command")
        if data == b"bug":
            raise ZeroDivisionError("a bug")
        if data == b"bye":
            self._out += [Send(b"bye"), Close()]
            return
        self._out.append(Send(data))

    def connection_lost(self, now):
        self.lost = True

    def get_timer(self):
        return None if self.idle is None else self.last + self.idle

    def handle_timer(self, now):
        self._out += [Send(b"idle"), Close()]


class Talker(StreamEngine):
    """Sends its script, one message per answer, and records what comes back."""

    def __init__(self, script, *, fail_when_done=False) -> None:
        super().__init__()
        self.script, self.heard = list(script), []
        self.fail_when_done = fail_when_done

    def start(self, now):
        self._out.append(Send(self.script.pop(0)))

    def receive(self, data, now):
        self.heard.append(data)
        if data == b"junk":
            raise PeerError("junk from the server")
        if self.script:
            self._out.append(Send(self.script.pop(0)))
        elif self.fail_when_done:
            self._out.append(Failed("ran out of script"))


class Quiet(App):
    name = "test-app"
    SERVICE = True

    def start(self):
        pass


def pair(script, *, idle=None, until=5.0, fail_when_done=False):
    net, (a, b) = line(["a", "b"], delay="1ms")
    server_app, client_app = Quiet(b), Quiet(a)
    servers, ended = [], []

    def make(_sock):
        engine = Echo(idle)
        servers.append(engine)
        return engine

    serve(server_app, 7, make, on_end=lambda d: ended.append(("server", d.failure, d.env.now)))
    client = Talker(script, fail_when_done=fail_when_done)
    driver = StreamDriver(client_app, client,
                          on_end=lambda d: ended.append(("client", d.failure or d.refused,
                                                         d.env.now)))
    driver.connect(b.ip, 7)
    net.run(until)
    return net, servers, client, ended


def test_an_exchange_runs_to_its_close():
    net, servers, client, ended = pair([b"hello", b"bye"])
    assert servers[0].got == [b"hello", b"bye"]
    assert client.heard == [b"hello", b"bye"]
    assert sorted(who for who, _f, _t in ended) == ["client", "server"]
    assert all(failure is None for _w, failure, _t in ended)


def test_the_engines_timer_closes_an_idle_connection_at_its_deadline():
    _net, servers, client, ended = pair([b"hello", b"hello again"], idle=2.0)
    assert servers[0].got == [b"hello", b"hello again"]
    assert client.heard == [b"hello", b"hello again", b"idle"]
    # The server's idle timer fired two seconds after the last bytes it received.
    server_end = [t for who, _f, t in ended if who == "server"][0]
    assert 2.0 <= server_end < 2.1


def test_an_engines_failed_output_is_its_failure_and_closes_the_connection():
    _net, servers, _client, ended = pair([b"hello"], fail_when_done=True)
    failures = {who: failure for who, failure, _t in ended}
    assert failures == {"client": "ran out of script", "server": None}
    assert servers[0].lost                 # the server heard the client's FIN


def test_a_peer_error_fails_that_connection_notes_it_and_the_run_goes_on():
    net, servers, client, ended = pair([b"hello", b"bad"])
    failures = {who: failure for who, failure, _t in ended}
    assert failures["server"] == "bad command"
    notes = [n.detail for n in net.trace.notes if n.what == "app-error"]
    assert notes == [{"app": "test-app", "error": "bad command", "cause": "peer"}]
    assert client.heard == [b"hello"]


def test_a_bug_propagates_under_the_strict_switch():
    with pytest.raises(ZeroDivisionError):
        pair([b"bug"])


def test_outside_strict_mode_a_bug_fails_only_its_app_loudly(monkeypatch):
    monkeypatch.setenv("NETSIM_STRICT", "0")
    net, _servers, _client, ended = pair([b"bug"])
    failures = {who: failure for who, failure, _t in ended}
    assert failures["server"] == "internal error: ZeroDivisionError: a bug"
    assert [n.detail["cause"] for n in net.trace.notes if n.what == "app-error"] == ["bug"]


def test_a_refused_connection_ends_the_driver_with_the_reason():
    net, (a, b) = line(["a", "b"], delay="1ms")
    ended = []
    app = Quiet(a)
    StreamDriver(app, Talker([b"x"]), on_end=ended.append).connect(b.ip, 9)
    net.run(1)
    assert [d.refused for d in ended] == ["Connection refused"]


def test_a_driver_connects_to_an_ipaddress_value_or_a_node_name():
    import ipaddress

    for target in (ipaddress.IPv4Address("10.0.1.2"), "b"):
        net, (a, b) = line(["a", "b"], delay="1ms")
        servers = []
        serve(Quiet(b), 7, lambda _sock: servers.append(Echo()) or servers[-1])
        client = Talker([b"hi"])
        StreamDriver(Quiet(a), client).connect(target, 7)
        net.run(1)
        assert client.heard == [b"hi"], target
