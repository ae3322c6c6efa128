"""TLS in the runtime's layer slot: implicit TLS from the first byte, STARTTLS on an
engine's request, a refused certificate failing only that connection with the alert on
the wire, close_notify before the FIN, and resumption on a second connection."""

import pytest

from netsim import line
from netsim.apps.base import App
from netsim.apps.tls import tls_world
from netsim.proto.stream import Send, StartTls, StreamEngine
from netsim.sim.runtime import StreamDriver, serve


class Echo(StreamEngine):
    def __init__(self):
        super().__init__()
        self.got, self.info = [], None

    def receive(self, data, now):
        self.got.append(data)
        if data == b"STARTTLS":
            self._out += [Send(b"OK go ahead"), StartTls()]
            return
        self._out.append(Send(data))

    def tls_ready(self, now, info):
        self.info = info


class Talker(StreamEngine):
    def __init__(self, script, upgrade=False):
        super().__init__()
        self.script, self.heard, self.info, self.upgrade = list(script), [], None, upgrade
        self.failed = None

    def start(self, now):
        self._out.append(Send(self.script.pop(0)))

    def receive(self, data, now):
        self.heard.append(data)
        if data == b"OK go ahead":
            self._out.append(StartTls())
            return
        if self.script:
            self._out.append(Send(self.script.pop(0)))

    def tls_ready(self, now, info):
        self.info = info
        self._out.append(Send(self.script.pop(0)))

    def tls_failed(self, error, now):
        self.failed = error


class Quiet(App):
    name = "test-app"
    SERVICE = True

    def start(self):
        pass


def run(script, *, implicit=True, fault=None, version=None, connections=1):
    net, (a, b) = line(["a", "b"], delay="5ms")
    server_app, client_app = Quiet(b), Quiet(a)
    world = tls_world(net)
    options = {"fault": fault} if fault else {}
    if version:
        options["version"] = version
    server_ctx = world.server_context(server_app, ["b.example"], options)
    client_ctx = world.client_context({"version": version} if version else {})
    servers, clients, drivers = [], [], []

    def make(_sock):
        servers.append(Echo())
        return servers[-1]

    factory = world.server_layer(server_ctx)
    serve(server_app, 7, make, layer=factory if implicit else None,
          starttls=None if implicit else factory)

    def connect(_event=None):
        client = Talker(script, upgrade=not implicit)
        clients.append(client)
        layer = lambda: world.client_layer(client_ctx, client_app, "b.example", 7)  # noqa: E731
        driver = StreamDriver(client_app, client, layer=layer() if implicit else None,
                              starttls=None if implicit else layer)
        drivers.append(driver)
        driver.connect(b.ip, 7)

    for k in range(connections):
        net.at(k * 1.0, connect)
    net.run(5.0)
    return net, servers, clients, drivers


def test_implicit_tls_carries_the_engines_bytes():
    net, servers, clients, _ = run([b"hello", b"again"])
    assert servers[0].got == [b"hello", b"again"]
    assert clients[0].heard == [b"hello", b"again"]
    # Nothing in the clear: the plaintext is not in any frame.
    assert not any(b"hello" in net.trace.frame_bytes(i) for i in range(net.trace.frame_count))


def test_starttls_switches_after_the_reply_and_the_engine_speaks_again():
    net, servers, clients, _ = run([b"STARTTLS", b"secret"], implicit=False)
    assert servers[0].got == [b"STARTTLS", b"secret"]
    assert clients[0].info.version == "TLSv1.3" and servers[0].info.version == "TLSv1.3"
    wire = b"".join(net.trace.frame_bytes(i) for i in range(net.trace.frame_count))
    assert b"STARTTLS" in wire and b"secret" not in wire


@pytest.mark.parametrize("fault", ["unknown-ca", "wrong-name", "expired"])
def test_a_refused_certificate_fails_that_connection_with_an_alert(fault):
    net, servers, clients, drivers = run([b"hello"], fault=fault)
    assert clients[0].failed is not None and clients[0].failed.kind == "certificate"
    assert drivers[0].failure.startswith("SSL certificate problem")
    assert servers[0].got == [] if servers else True          # no application data
    notes = [n.detail for n in net.trace.notes if n.what == "app-error"]
    assert any("alert" in n["error"] for n in notes)          # the server heard the alert


def test_tls_1_2_and_resumption_on_a_second_connection():
    _net, _servers, clients, drivers = run([b"hi"], version="1.2", connections=2)
    assert [c.heard for c in clients] == [[b"hi"], [b"hi"]]
    first, second = (d.layer.info() for d in drivers)
    assert first.version == second.version == "TLSv1.2"
    assert not first.resumed and second.resumed


def test_tls_1_3_resumes_with_a_ticket():
    _net, _servers, clients, drivers = run([b"hi"], connections=2)
    assert [d.layer.info().resumed for d in drivers] == [False, True]
