"""FTP on the network: ``ftp-server`` and the clients ``ftp`` (a list of commands as a
person types them), ``ftp-get`` and ``ftp-put`` (one file), over a control connection to
port 21 and a data connection per transfer (RFC 959 §3.2) — from port 20 in active
mode, to a port the server announces in passive mode.

Each session's engine is driven by one process (:func:`_pump`) that carries its outputs
out in order — control replies, then opening, feeding and closing the data connection —
and waits when there is nothing to do; the control reader and the data connection wake
it with what they bring in.
"""

from __future__ import annotations

import hashlib

from netsim.apps.base import App
from netsim.proto.ftp import FileTree, FtpClient, FtpServerSession
from netsim.proto.ftp import server as fs
from netsim.proto.ftp.data import CloseData, ConnectData, ListenData, SendData
from netsim.proto.ftp.tree import check_generated_size
from netsim.proto.stream import Close, Send
from netsim.units import SIZE_LIKE, parse_size
from netsim.wire.addr import ip_to_int

CONTROL_PORT = 21
PASSIVE_RANGE = (30000, 39999)


class _Session:
    """One engine, its control socket, and its data connection as the driver sees them."""

    def __init__(self, app, engine, control) -> None:
        self.app, self.engine, self.control = app, engine, control
        self.env = app.env
        self.data = None                  # the data connection's socket, once up
        self.listener = None
        self.wake = self.env.event()
        self.over = False

    def poke(self) -> None:
        if not self.wake.triggered:
            self.wake.succeed()

    def read_control(self):
        while not self.over:
            data = yield self.control.recv()
            if not data:
                lost = getattr(self.engine, "connection_lost", None)
                if lost is not None:
                    lost()
                self.over = True
                self.poke()
                return
            self.engine.receive(data, self.env.now)
            self.poke()

    def accept_data(self, port: int):
        node = self.app.node
        if self.listener is not None:
            self.listener.close()           # a transfer that failed left it waiting
        try:
            self.listener = node.tcp_listen(port)
        except OSError:
            self.engine.data_failed(self.env.now)
            self.poke()
            return
        listener = self.listener
        sock = yield listener.accept()
        listener.close()
        if self.listener is listener:
            self.listener = None
        self._up(sock)

    def connect_data(self, address: int, port: int, local_port: int, timeout: float):
        try:
            sock = self.app.node.tcp_connect(address, port, local_port=local_port)
        except OSError:
            self.engine.data_failed(self.env.now)
            self.poke()
            return
        try:
            outcome = yield sock.connected | self.env.timeout(timeout)
        except ConnectionError:                       # refused (RST) or given up
            outcome = {}
        if sock.connected in outcome and sock.connected.ok:
            self._up(sock)
            return
        if not sock.connected.triggered:
            sock.abort()                              # gave up waiting: no SYN-ACK came
        self.engine.data_failed(self.env.now)
        self.poke()

    def carry(self, out, timeout: float):
        """Carry out a data-connection output of either engine (a SimPy event to wait for,
        or None). A connect is waited for: the ftp program connects before it sends RETR,
        and a server blocks on its active connect as vsftpd does."""
        if isinstance(out, ListenData):
            self.env.process(self.accept_data(out.port))
        elif isinstance(out, ConnectData):
            return self.env.process(self.connect_data(out.address, out.port, out.local_port,
                                                      timeout))
        elif isinstance(out, SendData):
            if self.data is not None:
                return self.data.send(out.data)
        elif isinstance(out, CloseData):
            sock, self.data = self.data, None
            if sock is not None:
                sock.abort() if out.abort else sock.close()
            if not out.abort:
                self.engine.data_done(self.env.now)
                self.poke()
        return None

    def _up(self, sock) -> None:
        self.data = sock
        self.engine.data_connected(self.env.now)
        self.env.process(self._read_data(sock))
        self.poke()

    def _read_data(self, sock):
        while True:
            data = yield sock.recv()
            if not data:
                break
            if sock is self.data:
                self.engine.data_received(data, self.env.now)
        if sock is not self.data:
            sock.close()
            return                      # an earlier transfer's connection, already over
        self.data = None
        if sock.closed.triggered and sock.closed.value == "reset":
            self.engine.data_broken(self.env.now)
        else:
            sock.close()                # the peer's FIN was the end of the file; ours follows
            self.engine.data_closed(self.env.now)
        self.poke()


def _pump(session: _Session, handle):
    """Carry out the engine's outputs in order; ``handle(out)`` for the side-specific ones
    (it may return a SimPy event to wait for)."""
    while True:
        outputs = session.engine.outputs()
        if not outputs:
            if session.over:
                return
            session.wake = session.env.event()
            yield session.wake
            continue
        pending = b""
        for out in outputs:
            if isinstance(out, Send):
                pending += out.data                 # a reply of several lines, one write
                continue
            if pending:
                yield session.control.send(pending)
                pending = b""
            if isinstance(out, Close):
                session.control.close()
                session.over = True
                continue
            waiting = handle(out)
            if waiting is not None:
                yield waiting
        if pending:
            yield session.control.send(pending)


class FtpServer(App):
    """An FTP server (RFC 959; EPSV/EPRT, SIZE/MDTM) for the files given in the scenario."""

    name = "ftp-server"
    SCHEMA = {
        "files": {"type": "object", "additionalProperties": {
            "anyOf": [{"$ref": "#/$defs/size"}, {"type": "string"}]},
            "description": "path → size ('200KiB': deterministic text) or the content itself "
                           "(a string that is not a size); directories are made as needed"},
        "users": {"type": "object", "additionalProperties": {"type": "string"}, "default": {},
                  "description": "user → password"},
        "anonymous": {"type": "boolean", "default": False,
                      "description": "let 'anonymous' (or 'ftp') in with any password"},
        "data_timeout": {"$ref": "#/$defs/interval", "default": "10s",
                         "description": "how long to try the active data connection before 425"},
    }
    REQUIRED = ["files"]
    SERVICE = True
    BINDS = ("tcp", CONTROL_PORT)
    EXAMPLE = {"node": "server", "run": "ftp-server", "users": {"alice": "secret"},
               "files": {"report.txt": "200KiB", "docs/readme.txt": "hello"}}

    def __init__(self, node, *, files: dict, users: dict | None = None, anonymous: bool = False,
                 data_timeout: float = 10.0, at: float = 0.0) -> None:
        super().__init__(node, at=at)
        self.spec = {path: parse_size(value) if isinstance(value, str) and
                     SIZE_LIKE.match(value) else value for path, value in files.items()}
        self.users = dict(users or {})
        self.anonymous, self.data_timeout = anonymous, data_timeout
        self.tree = FileTree.from_spec(self.spec)
        self.log: list[dict] = []
        self.sessions = 0

    def start(self) -> None:
        listener = self.node.tcp_listen(CONTROL_PORT)
        self.env.process(self._accept(listener))

    def _ports(self):
        rng, lo, hi = self.network.rng, *PASSIVE_RANGE
        while True:
            port = rng.randint(lo, hi)
            if port not in self.node.tcp.listeners:
                yield port

    def _accept(self, listener):
        while True:
            sock = yield listener.accept()
            self.sessions += 1
            engine = FtpServerSession(self.tree, users=self.users, anonymous=self.anonymous,
                                      hostname=self.node.name, server_ip=ip_to_int(sock.local[0]),
                                      client_ip=ip_to_int(sock.remote[0]), passive_ports=self._ports())
            session = _Session(self, engine, sock)
            self.env.process(session.read_control())
            self.env.process(_pump(session, lambda out, s=session: self._data(s, out)))

    def _data(self, session: _Session, out):
        if not isinstance(out, fs.Transferred):
            return session.carry(out, self.data_timeout)
        client = session.control.remote[0]
        self.log.append({"t": round(self.env.now, 6), "command": out.command, "path": out.path,
                         "bytes": out.size, "client": client})
        verb = {"RETR": "sent", "STOR": "received", "LIST": "listed"}[out.command]
        self.say(f"ftpd: {verb} {out.path} ({out.size} bytes) for {client}")
        return None

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
        "user": {"type": "string", "default": "anonymous", "description": "login name"},
        "password": {"type": "string", "default": "guest@", "description": "its password"},
        "commands": {"type": "array", "items": {"type": "string"}, "default": ["ls"],
                     "description": "as typed at the ftp> prompt: ls, get FILE, put FILE SIZE, cd "
                                    "DIR, pwd, mkdir, rmdir, delete, rename A B, size, modtime, "
                                    "ascii, binary, passive"},
        "mode": {"enum": ["active", "passive"], "default": "passive",
                 "description": "active: the server connects back (PORT); passive: PASV"},
    }
    REQUIRED = ["server"]
    EXAMPLE = {"node": "alice", "at": "1s", "run": "ftp", "server": "server", "user": "alice",
               "password": "secret", "commands": ["ls", "get report.txt"], "mode": "passive"}
    DATA_TIMEOUT = 60.0

    def __init__(self, node, *, server: str, user: str = "anonymous", password: str = "guest@",
                 commands: list[str] | None = None, mode: str = "passive", at: float = 0.0) -> None:
        super().__init__(node, at=at)
        self.server, self.user, self.password = server, user, password
        self.mode = mode
        for command in commands or []:
            words = command.split()
            if len(words) == 3 and words[0] == "put" and SIZE_LIKE.match(words[2]):
                check_generated_size(parse_size(words[2]), f"put {words[1]}")
        self.engine = FtpClient(user=user, password=password,
                                commands=list(commands if commands is not None else ["ls"]),
                                passive=mode == "passive", server_name=server,
                                parse_size=parse_size)
        self.session: _Session | None = None

    def start(self) -> None:
        _, address = self.resolve(self.server)
        self.env.process(self._run(address))

    def _run(self, address: int):
        try:
            sock = self.node.tcp_connect(address, CONTROL_PORT)
        except OSError:
            self.error = "ftp: connect: Network is unreachable"
            self.say(self.error)
            return
        try:
            yield sock.connected
        except ConnectionError as exc:
            self.error = f"ftp: connect: {'Connection refused' if 'refused' in str(exc) else exc}"
            self.say(self.error)
            return
        local_ip, local_port = sock.local
        self.engine.connected(ip_to_int(local_ip), local_port, address, self.env.now)
        session = self.session = _Session(self, self.engine, sock)
        self.env.process(session.read_control())
        yield self.env.process(_pump(session, lambda out: session.carry(out, self.DATA_TIMEOUT)))
        if session.listener is not None:
            session.listener.close()
        self.lines.extend(self.engine.lines)
        if self.engine.errors:
            # The ftp program goes on after a failed command; its result says what failed.
            self.error = self.engine.errors[0]

    @property
    def done(self) -> bool:
        return self.engine.finished

    def progress(self) -> str:
        return f"at '{' '.join(self.engine._current or ['login'])}'"

    def wrap_up(self) -> None:
        if not self.engine.finished and self.session is not None:
            self.lines.extend(self.engine.lines)
            if self.session.listener is not None:
                self.session.listener.close()
        super().wrap_up()

    def result(self) -> dict:
        e = self.engine
        return {"server": self.server, "mode": self.mode, "control_port": e.control_port,
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
        "file": {"type": "string", "description": "the remote path to fetch"}}
    REQUIRED = ["server", "file"]
    EXAMPLE = {"node": "alice", "at": "1s", "run": "ftp-get", "server": "server",
               "file": "report.txt", "user": "alice", "password": "secret"}

    def __init__(self, node, *, file: str, **options) -> None:
        super().__init__(node, commands=[f"get {file}"], **options)


class FtpPut(Ftp):
    """Uploads one file by FTP (``ftp-put``): ``size`` bytes of deterministic text."""

    name = "ftp-put"
    SCHEMA = {key: value for key, value in Ftp.SCHEMA.items() if key != "commands"} | {
        "file": {"type": "string", "description": "the remote path to store"},
        "size": {"$ref": "#/$defs/size", "description": "how many bytes"}}
    REQUIRED = ["server", "file", "size"]
    EXAMPLE = {"node": "alice", "at": "1s", "run": "ftp-put", "server": "server",
               "file": "notes.txt", "size": "10KiB", "user": "alice", "password": "secret"}

    def __init__(self, node, *, file: str, size, **options) -> None:
        super().__init__(node, commands=[f"put {file} {size}"], **options)

