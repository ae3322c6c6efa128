"""An FTP client (RFC 959), sans-I/O: the commands a person types at the classic ``ftp``
prompt, turned into the protocol, and the session printed as that client prints it.

``ls``, ``get FILE``, ``put FILE SIZE`` (or ``put FILE "text"``), ``cd DIR``, ``pwd``,
``mkdir DIR``, ``rmdir DIR``, ``delete FILE``, ``rename A B``, ``size FILE``,
``modtime FILE``, ``ascii``, ``binary``, ``passive`` (toggles the mode); ``quit`` is
added at the end.

Data ports, as networking courses draw them: the control connection leaves from port
N; the k-th transfer uses N+k — in active mode the client listens there and says so
with ``PORT`` (the server connects from port 20), in passive mode it connects from
there to the port the server's 227 names. A new port per transfer keeps each data
connection's four numbers apart from the last one's, still in TIME-WAIT.

Inputs: :meth:`connected`, :meth:`receive` (control bytes), and for the data
connection :meth:`data_connected`, :meth:`data_failed`, :meth:`data_received`,
:meth:`data_closed`, :meth:`data_done`. Outputs: :class:`~netsim.proto.stream.Send`
and ``Close`` for the control connection, :class:`ListenData` / :class:`ConnectData`
/ :class:`SendData` / :class:`CloseData` for the data connection.
"""

from __future__ import annotations

import hashlib
import re
import shlex
from netsim.proto.ftp.data import CloseData, ConnectData, ListenData, SendData
from netsim.proto.ftp.tree import content_of
from netsim.proto.stream import Close, LineBuffer, Send

_PASV = re.compile(r"\((\d+),(\d+),(\d+),(\d+),(\d+),(\d+)\)")
COMMANDS = ("ls", "dir", "nlist", "get", "put", "cd", "cdup", "pwd", "mkdir", "rmdir", "delete",
            "rename", "size", "modtime", "ascii", "binary", "passive", "quit")


def parse_command(line: str) -> list[str]:
    """``'put notes.txt 10KiB'`` → ``['put', 'notes.txt', '10KiB']``; ValueError if unknown
    or missing its arguments."""
    words = shlex.split(line)
    if not words or words[0] not in COMMANDS:
        raise ValueError(f"unknown ftp command {line!r} (one of: {', '.join(COMMANDS)})")
    need = {"get": 1, "put": 2, "cd": 1, "mkdir": 1, "rmdir": 1, "delete": 1, "rename": 2,
            "size": 1, "modtime": 1}.get(words[0], 0)
    if len(words) - 1 < need:
        raise ValueError(f"ftp command {line!r} needs {need} argument(s)")
    return words


class FtpClient:
    def __init__(self, *, user: str, password: str, commands: list[str], passive: bool = True,
                 server_name: str = "server", parse_size=int) -> None:
        self.user, self.password = user, password
        self.commands = [parse_command(c) for c in commands] + [["quit"]]
        self.passive = passive
        self.server_name = server_name
        self._parse_size = parse_size
        self._lines = LineBuffer(4096)
        self._reply_lines: list[str] = []
        self._out: list = []
        self.lines: list[str] = []                   # what the ftp program printed
        self.local_ip = self.server_ip = 0
        self.control_port = 0
        self._transfers = 0
        self._step = "greeting"
        self._current: list[str] | None = None
        self._data: bytearray | None = None
        self._data_open = self._data_done = self._reply_done = False
        self._final_reply: tuple[int, str] | None = None
        self._upload: bytes | None = None
        self._started_at = 0.0
        self.now = 0.0
        self.received: dict[str, bytes] = {}         # get: remote name → bytes
        self.sent: dict[str, bytes] = {}             # put: remote name → bytes
        self.listings: list[str] = []
        self.errors: list[str] = []
        self.logged_in = False
        self.finished = False
        self.binary = False          # TYPE A until "TYPE I" is accepted (RFC 959 §3.1.1.1)

    # -- inputs -------------------------------------------------------------------------------

    def connected(self, local_ip: int, local_port: int, server_ip: int, now: float) -> None:
        self.local_ip, self.control_port, self.server_ip = local_ip, local_port, server_ip
        self.now = now
        self.lines.append(f"Connected to {self.server_name}.")

    def receive(self, data: bytes, now: float) -> None:
        self.now = now
        for line in self._lines.feed(data):
            text = line.decode("utf-8", "replace")
            if len(text) < 3 or not text[:3].isdigit():
                self._reply_lines.append(text)           # a middle line of a long reply
                continue
            self._reply_lines.append(text)
            if len(text) > 3 and text[3] == "-" and len(self._reply_lines) == 1:
                continue                                 # the first line of a long reply
            if len(self._reply_lines) > 1 and not (text[3:4] == " " and
                                                    text[:3] == self._reply_lines[0][:3]):
                continue
            lines, self._reply_lines = self._reply_lines, []
            self.lines.extend(lines)
            self._on_reply(int(text[:3]), "\n".join(lines))

    def connection_lost(self) -> None:
        if not self.finished:
            self.errors.append("the server closed the control connection")
            self.lines.append("421 Service not available, remote server has closed connection")
            self.finished = True

    def data_connected(self, now: float) -> None:
        self.now = now
        self._data_open = True
        if self._step == "connecting":
            self._transfer_command()
        elif self._upload is not None and self._reply_done is False and self._step == "transfer":
            self._send_upload()

    def data_failed(self, now: float) -> None:
        self.now = now
        self._data_open = False
        if self._step == "connecting":
            # As the ftp program says when its connect() to the 227 port fails.
            self.lines.append("ftp: connect: Connection timed out")
            self.errors.append(f"{' '.join(self._current)}: data connection failed")
            self._next()

    def data_received(self, data: bytes, now: float) -> None:
        self.now = now
        if self._data is not None:
            self._data += data

    def data_closed(self, now: float) -> None:
        self.now = now
        self._data_open, self._data_done = False, True
        self._maybe_finish_transfer()

    def data_broken(self, now: float) -> None:
        """The data connection was reset mid-transfer: what came is kept, the transfer failed."""
        self.now = now
        self._data_done = True
        self.errors.append(f"{' '.join(self._current or [])}: data connection reset")
        self._maybe_finish_transfer()

    def data_done(self, now: float) -> None:
        """An upload's bytes are all out and the data connection is closing."""
        self.now = now
        self._data_done = True
        self._maybe_finish_transfer()

    # -- the conversation -----------------------------------------------------------------------

    def _on_reply(self, code: int, text: str) -> None:
        step = self._step
        if step == "greeting":
            if code != 220:
                return self._quit(f"no greeting: {text}")
            self._step = "user"
            self.lines.append(f"Name ({self.server_name}:{self.user}): {self.user}")
            self._send(f"USER {self.user}")
        elif step == "user":
            if code == 230:
                return self._logged_in()
            if code != 331:
                return self._quit(f"USER refused: {text}")
            self._step = "pass"
            self.lines.append("Password:")
            self._send(f"PASS {self.password}")
        elif step == "pass":
            if code != 230:
                self.errors.append(f"login failed: {text}")
                self.lines.append("Login failed.")
                return self._quit(None)
            self._logged_in()
        elif step == "syst":
            if code == 215:
                self.lines.append(f"Remote system type is {text[4:].split()[0]}.")
            self._step = "type"
            self._send("TYPE I")
        elif step == "type":
            if code == 200:
                self.binary = True
                self.lines.append("Using binary mode to transfer files.")
            self._next()
        elif step == "simple":
            if code >= 400:
                self.errors.append(f"{' '.join(self._current)}: {text}")
            elif self._current[0] in ("ascii", "binary"):
                self.binary = self._current[0] == "binary"
            self._next()
        elif step == "rnfr":
            if code != 350:
                self.errors.append(f"rename: {text}")
                return self._next()
            self._step = "simple"
            self._send(f"RNTO {self._current[2]}")
        elif step == "port":
            if code != 200:
                self.errors.append(f"PORT: {text}")
                return self._next()
            self._transfer_command()
        elif step == "pasv":
            match = _PASV.search(text)
            if code != 227 or match is None:
                self.errors.append(f"PASV: {text}")
                return self._next()
            n = [int(g) for g in match.groups()]
            address = int.from_bytes(bytes(n[:4]), "big")
            # connect() first; the command goes once the data connection is up.
            self._step = "connecting"
            self._out.append(ConnectData(address, n[4] * 256 + n[5], self._data_port))
        elif step == "transfer":
            if code in (125, 150):
                if self._upload is not None and self._data_open:
                    self._send_upload()
                return
            self._final_reply = (code, text)
            self._reply_done = True
            if code >= 400:
                self.errors.append(f"{' '.join(self._current)}: {text}")
                self._data_done = True
            self._maybe_finish_transfer()
        elif step == "quit":
            self.finished = True
            self._out.append(Close())

    def _logged_in(self) -> None:
        self.logged_in = True
        self._step = "syst"
        self._send("SYST")

    def _next(self) -> None:
        command = self.commands.pop(0)
        self._current = command
        verb, args = command[0], command[1:]
        self.lines.append(f"ftp> {' '.join(shlex.quote(w) for w in command)}")
        self._step = "simple"
        if verb == "quit":
            self._step = "quit"
            return self._send("QUIT")
        if verb == "passive":
            self.passive = not self.passive
            self.lines.append(f"Passive mode {'on' if self.passive else 'off'}.")
            return self._next()
        if verb in ("ls", "dir", "nlist", "get", "put"):
            return self._begin_transfer(verb, args)
        simple = {"cd": f"CWD {args[0] if args else ''}", "cdup": "CDUP", "pwd": "PWD",
                  "mkdir": f"MKD {args[0] if args else ''}", "rmdir": f"RMD {args[0] if args else ''}",
                  "delete": f"DELE {args[0] if args else ''}", "ascii": "TYPE A", "binary": "TYPE I",
                  "size": f"SIZE {args[0] if args else ''}", "modtime": f"MDTM {args[0] if args else ''}"}
        if verb == "rename":
            self._step = "rnfr"
            return self._send(f"RNFR {args[0]}")
        self._send(simple[verb])

    def _begin_transfer(self, verb: str, args: list[str]) -> None:
        self._transfers += 1
        self._data_port = self.control_port + self._transfers
        self._data = bytearray()
        self._upload = None
        self._data_open = self._data_done = self._reply_done = False
        self._final_reply = None
        self._started_at = self.now
        if verb in ("get", "put"):
            self.lines.append(f"local: {args[0]} remote: {args[0]}")
        if verb == "put":
            value = args[1]
            self._upload = value.encode() if not _looks_like_size(value) else \
                content_of(args[0], self._parse_size(value))
        if self.passive:
            self._step = "pasv"
            self._send("PASV")
        else:
            self._step = "port"
            self._out.append(ListenData(self._data_port))
            h = self.local_ip.to_bytes(4, "big")
            p = self._data_port
            self._send(f"PORT {h[0]},{h[1]},{h[2]},{h[3]},{p >> 8},{p & 255}")

    def _transfer_command(self) -> None:
        verb, args = self._current[0], self._current[1:]
        self._step = "transfer"
        command = {"ls": "LIST", "dir": "LIST", "nlist": "NLST"}.get(verb)
        if command is not None:
            self._send(command + (f" {args[0]}" if args else ""))
        elif verb == "get":
            self._send(f"RETR {args[0]}")
        else:
            self._send(f"STOR {args[0]}")

    def _send_upload(self) -> None:
        data, self._upload = self._upload, None
        self.sent[self._current[1]] = data
        wire = data if self.binary else data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        self._out.append(SendData(wire))
        self._out.append(CloseData())

    def _maybe_finish_transfer(self) -> None:
        """A transfer is over when the reply has come *and* the data connection closed."""
        if not (self._reply_done and self._data_done) or self._step != "transfer":
            return
        verb = self._current[0]
        code, _text = self._final_reply
        if code < 300:
            data = bytes(self._data or b"")
            seconds = max(self.now - self._started_at, 1e-9)
            if verb in ("ls", "dir", "nlist"):
                self.listings.append(data.decode("utf-8", "replace"))
                self.lines[-1:-1] = data.decode("utf-8", "replace").rstrip("\r\n").split("\r\n") \
                    if data else []
            elif verb == "get":
                # In ASCII mode the wire's CRLF line ends become the local LF.
                self.received[self._current[1]] = data if self.binary else data.replace(b"\r\n", b"\n")
                self.lines.append(f"{len(data)} bytes received in {seconds:.3g} secs "
                                  f"({len(data) / seconds / 1024:.4g} kB/s)")
            elif verb == "put":
                size = len(self.sent.get(self._current[1], b""))
                self.lines.append(f"{size} bytes sent in {seconds:.3g} secs "
                                  f"({size / seconds / 1024:.4g} kB/s)")
        self._next()

    def _quit(self, error: str | None) -> None:
        if error:
            self.errors.append(error)
        self.commands = [["quit"]]
        self._next()

    def _send(self, command: str) -> None:
        self._out.append(Send(command.encode() + b"\r\n"))

    def outputs(self) -> list:
        out, self._out = self._out, []
        return out

    # -- results --------------------------------------------------------------------------------

    def received_sha256(self) -> dict[str, str]:
        return {name: hashlib.sha256(data).hexdigest() for name, data in self.received.items()}


def _looks_like_size(value: str) -> bool:
    return bool(re.fullmatch(r"\d+(\.\d+)?\s*[A-Za-z]*", value))
