"""FTP on the network: ``ftp-server`` and the clients ``ftp`` (a list of commands as a
person types them), ``ftp-get`` and ``ftp-put`` (one file), over a control connection to
port 21 and a data connection per transfer (RFC 959 §3.2) — from port 20 in active
mode, to a port the server announces in passive mode.

Every connection runs through the application runtime (:mod:`netsim.sim.runtime`): the
session engine (:mod:`netsim.proto.ftp`) on the control connection, a
:class:`~netsim.proto.ftp.data.DataStream` on each data connection. :class:`_DataLink`
carries out what a session engine asks of its data connection and tells the engine,
through its control connection's driver (so inside that driver's error boundary), what
the data connection did. Every timer is an engine's.
"""

from __future__ import annotations

import hashlib
import shlex
from ipaddress import IPv4Address

from netsim.apps.base import App
from netsim.proto.ftp import FileTree, FtpClient, FtpServerSession
from netsim.proto.ftp import server as fs
from netsim.proto.ftp.data import (CloseData, ConnectData, DataEnd, DataIn, DataStream, DataUp,
                                   ListenData, SendData)
from netsim.sim.runtime import StreamDriver, serve
from netsim.units import SIZE_LIKE, parse_size

CONTROL_PORT = 21
PASSIVE_RANGE = (30000, 39999)
_EPHEMERAL = (32768, 60999)          # Linux's ip_local_port_range


def _ports_in_use(node) -> set[int]:
    return set(node.tcp.listeners) | {key[1] for key in node.tcp.connections}


def ephemeral_port(node) -> int:
    """What bind() to port 0 gives a listening socket: a port of Linux's
    ip_local_port_range that no socket of the node has, from a random start."""
    lo, hi = _EPHEMERAL
    used = _ports_in_use(node)
    port = node.network.rng.randint(lo, hi)
    while port in used:
        port = lo + (port - lo + 1) % (hi - lo + 1)
    return port


def passive_ports(node, rng, low: int, high: int):
    """The server's passive ports: each from a random start in ``low``–``high`` (vsftpd's
    pasv_min_port/pasv_max_port), the first no socket of the node has; None when every
    one is taken (the session answers 425) — never a search without end."""
    while True:
        used = _ports_in_use(node)
        start = rng.randint(low, high)
        size = high - low + 1
        yield next((low + (start - low + k) % size for k in range(size)
                    if low + (start - low + k) % size not in used), None)


class _DataLink:
    """The data connections of one FTP session, for its control connection's driver.

    One data connection at a time: a new one (or the engine's CloseData) lets the last
    one go, and whatever a connection let go still does is not the engine's business."""

    def __init__(self, app: App, control: StreamDriver) -> None:
        self.app, self.control, self.engine = app, control, control.engine
        self.listener = None                    # waiting for the peer's data connection
        self._wanted = None                     # …and the token its accept must carry
        self.driver: StreamDriver | None = None
        self.stream: DataStream | None = None   # the data connection the engine has

    def carry(self, out) -> None:
        """One of the session engine's data-connection outputs."""
        kind = type(out)
        if kind is SendData:
            if self.driver is not None and self.stream is not None:
                self.stream.send(out.data)
                self.driver.kick()
        elif kind is CloseData:
            self._close(out)
        elif kind is ListenData:
            self._listen(out.port)
        elif kind is ConnectData:
            self._connect(out)

    def drop(self) -> None:
        """Let go of the data connection and the listening socket (the session is over)."""
        self._close(CloseData(report=False))

    # -- opening ------------------------------------------------------------------------

    def _listen(self, port: int) -> None:
        self.drop()
        token = self._wanted = object()
        port = port or ephemeral_port(self.app.node)        # bind() to 0: the kernel's pick
        try:
            self.listener = serve(self.app, port, lambda sock: self._accepted(token),
                                  on_output=self._output, on_end=self._ended)
        except OSError:                         # the port is someone else's
            self.control.call(self.engine.data_failed, self._now(), "Address already in use")
            return
        self.control.call(self.engine.data_listening, self._now(), port)

    def _accepted(self, token) -> DataStream:
        stream = DataStream()
        if token is self._wanted and self.listener is not None:
            self.listener.close()               # one connection per transfer
            self.listener = None
            self.stream = stream
        return stream                           # else a latecomer, reset at once (_output)

    def _connect(self, out: ConnectData) -> None:
        self.drop()
        stream = self.stream = DataStream()
        driver = self.driver = StreamDriver(self.app, stream, on_end=self._ended)
        driver.on_output = lambda event: self._output(driver, event)
        driver.connect(out.address, out.port, local_port=out.local_port, timeout=out.timeout)

    # -- what the data connection does ---------------------------------------------------

    def _output(self, driver: StreamDriver, event) -> None:
        if driver.engine is not self.stream:
            if type(event) is DataUp:
                driver.engine.abort()           # nobody wants this connection
            return
        now, kind = self._now(), type(event)
        if kind is DataIn:
            self.control.call(self.engine.data_received, event.data, now)
        elif kind is DataUp:
            self.driver = driver
            peer = IPv4Address(driver.sock.remote[0])
            self.control.call(self.engine.data_connected, now, peer)
        elif kind is DataEnd:
            self.driver = self.stream = None
            if driver.sock.closed.triggered:    # gone before we closed: a reset
                self.control.call(self.engine.data_broken, now)
            else:                               # the peer's FIN: the end of the file
                self.control.call(self.engine.data_closed, now)

    def _ended(self, driver: StreamDriver) -> None:
        if driver.engine is not self.stream:
            return                              # let go already, or its end was told
        self.driver = self.stream = None
        if driver.refused is not None:
            self.control.call(self.engine.data_failed, self._now(), driver.refused)
        elif driver.failure is not None:
            self.control.call(self.engine.data_broken, self._now())

    # -- closing ------------------------------------------------------------------------

    def _close(self, out: CloseData) -> None:
        if self.listener is not None:
            self.listener.close()
            self.listener = None
        self._wanted = None
        driver, stream = self.driver, self.stream
        self.driver = self.stream = None
        if driver is None or driver.over:
            return
        if driver.sock is not None and not driver.sock.connected.triggered:
            driver.sock.abort()                 # still connecting: give up
            return
        if out.abort:
            stream.abort()
        else:
            stream.close()
        driver.kick()
        if out.report and not out.abort:
            driver.when_written(lambda: self.control.call(self.engine.data_done, self._now()))

    def _now(self) -> float:
        return self.app.env.now


class FtpServer(App):
    """An FTP server (RFC 959; EPSV/EPRT, SIZE/MDTM) for the files given in the scenario."""

    name = "ftp-server"
    SCHEMA = {
        "files": {"type": "object", "additionalProperties": {
            "anyOf": [{"$ref": "#/$defs/size"}, {"type": "string"}]},
            "description": "path → size ('200KiB': deterministic text) or the content itself "
                           "(a string that is not a size); directories are made as needed"},
        "users": {"type": "object", "propertyNames": {"$ref": "#/$defs/ascii_word"},
                  "additionalProperties": {"$ref": "#/$defs/ascii_line"}, "default": {},
                  "description": "user → password"},
        "anonymous": {"type": "boolean", "default": False,
                      "description": "let 'anonymous' (or 'ftp') in with any password"},
        "data_timeout": {"$ref": "#/$defs/interval", "default": "10s",
                         "description": "how long to wait for a transfer's data connection "
                                        "(active: connecting to the client; passive: the "
                                        "client's connect) before 425"},
        "idle_timeout": {"$ref": "#/$defs/interval", "default": "300s",
                         "description": "a session with no command for this long ends with "
                                        "'421 Timeout.' (vsftpd's idle_session_timeout)"},
    }
    REQUIRED = ["files"]
    SERVICE = True
    BINDS = ("tcp", CONTROL_PORT)
    EXAMPLE = {"node": "server", "run": "ftp-server", "users": {"alice": "secret"},
               "files": {"report.txt": "200KiB", "docs/readme.txt": "hello"}}

    def __init__(self, node, *, files: dict, users: dict | None = None, anonymous: bool = False,
                 data_timeout: float = 10.0, idle_timeout: float = 300.0, at: float = 0.0) -> None:
        super().__init__(node, at=at)
        self.spec = {path: parse_size(value) if isinstance(value, str) and
                     SIZE_LIKE.match(value) else value for path, value in files.items()}
        self.users = dict(users or {})
        self.anonymous = anonymous
        self.data_timeout, self.idle_timeout = data_timeout, idle_timeout
        self.tree = FileTree.from_spec(self.spec)
        self.log: list[dict] = []
        self.sessions = 0
        self._links: dict[StreamDriver, _DataLink] = {}

    def start(self) -> None:
        serve(self, CONTROL_PORT, self._session, on_output=self._output, on_end=self._ended)

    def _ports(self):
        return passive_ports(self.node, self.network.rng, *PASSIVE_RANGE)

    def _session(self, sock) -> FtpServerSession:
        self.sessions += 1
        return FtpServerSession(self.tree, users=self.users, anonymous=self.anonymous,
                                hostname=self.node.name, server_ip=IPv4Address(sock.local[0]),
                                client_ip=IPv4Address(sock.remote[0]),
                                passive_ports=self._ports(), data_timeout=self.data_timeout,
                                idle_timeout=self.idle_timeout)

    def _output(self, driver: StreamDriver, out) -> None:
        if type(out) is not fs.Transferred:
            link = self._links.get(driver)
            if link is None:
                link = self._links[driver] = _DataLink(self, driver)
            link.carry(out)
            return
        client = driver.sock.remote[0]
        self.log.append({"t": round(self.env.now, 6), "command": out.command, "path": out.path,
                         "bytes": out.size, "client": client})
        verb = {"RETR": "sent", "STOR": "received", "LIST": "listed"}[out.command]
        self.say(f"ftpd: {verb} {out.path} ({out.size} bytes) for {client}")

    def _ended(self, driver: StreamDriver) -> None:
        link = self._links.pop(driver, None)
        if link is not None:
            link.drop()

    def summary_line(self) -> str:
        return (f"ftp-server: {self.sessions} sessions, {len(self.log)} transfers; "
                f"{sum(1 for v in self.tree.listing().values() if 'size' in v)} files now")

    def result(self) -> dict:
        return {"sessions": self.sessions, "transfers": self.log, "files": self.tree.listing()}


class Ftp(App):
    """The classic ``ftp`` client: logs in, runs the commands a person would type, and
    prints the session as that program does."""

    name = "ftp"
    TARGETS = ("server",)
    SCHEMA = {
        "server": {"type": "string", "description": "the FTP server (node, address or name)"},
        "user": {"$ref": "#/$defs/ascii_word", "default": "anonymous",
                 "description": "login name"},
        "password": {"$ref": "#/$defs/ascii_line", "default": "guest@",
                     "description": "its password"},
        "commands": {"type": "array", "items": {"$ref": "#/$defs/line"}, "default": ["ls"],
                     "description": "as typed at the ftp> prompt: ls, get FILE, put FILE SIZE, cd "
                                    "DIR, pwd, mkdir, rmdir, delete, rename A B, size, modtime, "
                                    "ascii, binary, passive, epsv4"},
        "mode": {"enum": ["active", "passive"], "default": "passive",
                 "description": "active: the server connects back (PORT); passive: PASV"},
        "extended": {"type": "boolean", "default": False,
                     "description": "as Debian's ftp (tnftp): FEAT after login, EPSV/EPRT "
                                    "(PASV/PORT if refused), SIZE before and MDTM after a get"},
        "skip_pasv_ip": {"type": "boolean", "default": True,
                         "description": "connect to the control connection's host whatever "
                                        "address a 227 names (curl's default since 7.74); "
                                        "false: follow the 227, as old clients did"},
    }
    REQUIRED = ["server"]
    EXAMPLE = {"node": "alice", "at": "1s", "run": "ftp", "server": "server", "user": "alice",
               "password": "secret", "commands": ["ls", "get report.txt"], "mode": "passive"}
    #: How long the ftp program waits for a data connection (curl's accept timeout).
    DATA_TIMEOUT = 60.0

    def __init__(self, node, *, server: str, user: str = "anonymous", password: str = "guest@",
                 commands: list[str] | None = None, mode: str = "passive",
                 extended: bool = False, skip_pasv_ip: bool = True, at: float = 0.0) -> None:
        super().__init__(node, at=at)
        self.server, self.user, self.password = server, user, password
        self.mode = mode
        self.engine = FtpClient(user=user, password=password,
                                commands=list(commands if commands is not None else ["ls"]),
                                passive=mode == "passive", server_name=server,
                                parse_size=parse_size, data_timeout=self.DATA_TIMEOUT,
                                skip_pasv_ip=skip_pasv_ip, extended=extended)
        self.control: StreamDriver | None = None
        self._link: _DataLink | None = None
        self._printed = False

    def start(self) -> None:
        # Data ports as the node's stack has them: the kernel's ephemeral pick on Linux,
        # the course notes' N+1, N+2, … on the textbook stack.
        self.engine.data_ports = "n+1" if self.node.tcp.stack == "textbook" else "ephemeral"
        _, address = self.resolve(self.server)
        address = IPv4Address(address)
        control = self.control = StreamDriver(self, self.engine, on_end=self._ended)
        self._link = _DataLink(self, control)
        control.on_output = self._link.carry
        control.connect(address, CONTROL_PORT)
        if control.sock is not None:
            local_ip, local_port = control.sock.local
            self.engine.endpoints(IPv4Address(local_ip), local_port, address)

    def _ended(self, driver: StreamDriver) -> None:
        if driver.refused is not None:
            self.error = f"ftp: connect: {driver.refused}"
            self.say(self.error)
            return
        self._link.drop()
        self._conclude()

    def _conclude(self, *, judged: bool = True) -> None:
        """The session as the ftp program printed it, and (``judged``) what failed."""
        if self._printed:
            return
        self._printed = True
        self.lines.extend(self.engine.lines)
        if self.engine.data_ports == "n+1" and self.engine.transfers:
            self.lines.append(f"(data ports {self.engine.control_port}+1, +2, …: the textbook's "
                              f"N+1 on stack: textbook; a Linux client takes a new ephemeral "
                              f"port for each)")
        failure = self.control.failure
        if failure is not None:
            self.lines.append(failure)
            self.error = failure
        elif judged and self.engine.errors:
            # The ftp program goes on after a failed command; its result says what failed.
            self.error = self.engine.errors[0]

    @property
    def done(self) -> bool:
        return self.engine.finished

    def progress(self) -> str:
        return f"at '{' '.join(self.engine.current or ['login'])}'"

    def wrap_up(self) -> None:
        if self.control is not None and self.control.refused is None:
            # A session the run ended in the middle of is unfinished, whatever failed so far.
            self._conclude(judged=self.engine.finished)
        super().wrap_up()

    def result(self) -> dict:
        e = self.engine
        return {"server": self.server, "mode": self.mode, "control_port": e.control_port,
                "data_ports": e.data_ports,
                "logged_in": e.logged_in, "errors": e.errors,
                "received": {name: {"bytes": len(data),
                                    "sha256": hashlib.sha256(data).hexdigest()}
                             for name, data in e.received.items()},
                "sent": {name: {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
                         for name, data in e.sent.items()}}


class FtpGet(Ftp):
    """Fetches one file by FTP (``ftp-get``), as ``curl ftp://…`` would."""

    name = "ftp-get"
    SCHEMA = {key: value for key, value in Ftp.SCHEMA.items() if key != "commands"} | {
        "file": {"$ref": "#/$defs/line", "description": "the remote path to fetch"}}
    REQUIRED = ["server", "file"]
    EXAMPLE = {"node": "alice", "at": "1s", "run": "ftp-get", "server": "server",
               "file": "report.txt", "user": "alice", "password": "secret"}

    def __init__(self, node, *, file: str, **options) -> None:
        super().__init__(node, commands=[f"get {shlex.quote(file)}"], **options)


class FtpPut(Ftp):
    """Uploads one file by FTP (``ftp-put``): ``size`` bytes of deterministic text."""

    name = "ftp-put"
    SCHEMA = {key: value for key, value in Ftp.SCHEMA.items() if key != "commands"} | {
        "file": {"$ref": "#/$defs/line", "description": "the remote path to store"},
        "size": {"$ref": "#/$defs/size", "description": "how many bytes"}}
    REQUIRED = ["server", "file", "size"]
    EXAMPLE = {"node": "alice", "at": "1s", "run": "ftp-put", "server": "server",
               "file": "notes.txt", "size": "10KiB", "user": "alice", "password": "secret"}

    def __init__(self, node, *, file: str, size, **options) -> None:
        super().__init__(node, commands=[f"put {shlex.quote(file)} {size}"], **options)
