"""An FTP client (RFC 959, EPSV/EPRT from RFC 2428), sans-I/O: the commands a person
types at the classic ``ftp`` prompt, turned into the protocol, and the session printed
as that client prints it.

``ls``, ``get FILE``, ``put FILE SIZE`` (or ``put FILE "text"``), ``cd DIR``, ``pwd``,
``mkdir DIR``, ``rmdir DIR``, ``delete FILE``, ``rename A B``, ``size FILE``,
``modtime FILE``, ``ascii``, ``binary``, ``passive`` (toggles the mode), ``epsv4``
(toggles EPSV/EPRT instead of PASV/PORT, as tnftp's command does); ``quit`` is added at
the end.

Data ports (``data_ports``): a real client (tnftp, netkit ftp, curl) leaves the choice
to the kernel — in active mode it binds port 0 and names the ephemeral port it got in
``PORT``, in passive mode it connects without binding — so each data connection has a
fresh port (``"ephemeral"``, what the app asks for on the Linux stack). Networking
courses draw the textbook's model instead (``"n+1"``, on ``stack: textbook``): the
control connection leaves from port N and the k-th transfer uses N+k. Either way a new
port per transfer keeps each data connection's four numbers apart from the last one's,
still in TIME-WAIT. Active mode asks for the listening socket with :class:`ListenData`
and sends ``PORT`` once :meth:`data_listening` says which port it has.

A 227 naming another host than the control connection's peer is not followed: the data
connection goes to the control connection's host, and the session says so in curl's
words (``Skip 10.9.9.9 for data connection, reuse server instead``: curl's default since
7.74, as ftplib's since Python 3.9) — else a hostile or NATed server could point the
client at any host (``skip_pasv_ip=False``: trust it, as the 1990s did).

``extended=True`` is Debian's ``ftp`` (tnftp): after SYST it asks ``FEAT``, it uses
EPSV/EPRT (falling back to PASV/PORT when the server refuses them), and a ``get`` asks
``SIZE`` before and ``MDTM`` after the transfer where FEAT lists them; like tnftp it
prints none of the replies to SYST, FEAT, SIZE and MDTM.

Under the stream contract (:mod:`netsim.proto.stream`) on the control connection:
``start`` (connected), ``receive`` (reply bytes), ``connection_lost``, and the one timer,
the wait for the server's data connection in active mode. For the data connection:
:meth:`data_connected`, :meth:`data_failed`, :meth:`data_received`,
:meth:`data_closed`, :meth:`data_broken`, :meth:`data_done`; it is asked for with the
outputs of :mod:`netsim.proto.ftp.data`.

What a server sends is read as RFC 959 §4.2 has it — three ASCII digits, then a space
or, for a reply of several lines, a hyphen and more lines up to the same code and a
space. Bytes that are not such a reply raise :class:`~netsim.errors.PeerError` (curl's
words, ``Weird server reply``; the ftp program has none). What the reply *says* is
judged as the ftp program judges it: a 227 whose numbers are not six bytes is
``Passive mode address scan failure. Shouldn't happen!`` and that command fails; a 421,
or the server's close, ends the session with ``421 Service not available, remote server
has closed connection``.
"""

from __future__ import annotations

import hashlib
import re
import shlex
from ipaddress import IPv4Address

from netsim.errors import PeerError
from netsim.proto.ftp.data import CloseData, ConnectData, ListenData, SendData
from netsim.proto.ftp.tree import check_generated_size, content_of
from netsim.proto.stream import Close, Failed, LineBuffer, Send, StreamEngine
from netsim.units import parse_size as _parse_size

COMMANDS = ("ls", "dir", "nlist", "get", "put", "cd", "cdup", "pwd", "mkdir", "rmdir", "delete",
            "rename", "size", "modtime", "ascii", "binary", "passive", "epsv4", "quit")
_NEEDS = {"get": 1, "put": 2, "cd": 1, "mkdir": 1, "rmdir": 1, "delete": 1, "rename": 2,
          "size": 1, "modtime": 1}

# RFC 959 §4.2: a reply starts with three digits — ASCII ones ("²²²" and "٢٢٠" are digits
# to str.isdigit(), not to an FTP client) — then a space, a hyphen or the line's end.
_REPLY = re.compile(r"[0-9]{3}(?=[ -]|$)")
# The six numbers of a 227 (RFC 959 §4.1.2, "h1,h2,h3,h4,p1,p2") wherever they stand, as
# the ftp program's sscanf("%d,%d,%d,%d,%d,%d") reads them after the code.
_HOST_PORT = re.compile(r"([0-9]+),([0-9]+),([0-9]+),([0-9]+),([0-9]+),([0-9]+)")
# RFC 2428 §3: "229 … (<d><d><d><port><d>)", the delimiter any printable character.
_EXTENDED = re.compile(r"\(([!-~])\1\1([0-9]+)\1\)")

#: A reply line longer than this, or a reply (all its lines) bigger than MAX_REPLY, is not
#: one an FTP server sends; reading on would let a peer grow memory without bound.
LINE_LIMIT = 4096
MAX_REPLY = 64 * 1024

#: What the ftp program prints (netkit-ftp, 4.4BSD ftp; tnftp for EPSV and 22x codes).
SCAN_FAILURE = "Passive mode address scan failure. Shouldn't happen!"
LOST_PEER = "421 Service not available, remote server has closed connection"
#: curl's words where the ftp program has none (curl has these limits; netkit waits forever).
WEIRD_REPLY = "Weird server reply"
ACCEPT_TIMEOUT = "Accept timeout occurred while waiting server connect"


def parse_command(line: str) -> list[str]:
    """``'put notes.txt 10KiB'`` → ``['put', 'notes.txt', '10KiB']``; ValueError if unknown
    or missing its arguments."""
    words = shlex.split(line)
    if not words or words[0] not in COMMANDS:
        raise ValueError(f"unknown ftp command {line!r} (one of: {', '.join(COMMANDS)})")
    need = _NEEDS.get(words[0], 0)
    if len(words) - 1 < need:
        raise ValueError(f"ftp command {line!r} needs {need} argument(s)")
    return words


def wire_text(what: str, text: str) -> str:
    """``text`` if it can stand in a command line (RFC 959 §4.1: no CR or LF; UTF-8 as RFC
    2640 has it), else ValueError: ``user: "u\\r\\nPASS p\\r\\nDELE a.txt"`` is three
    commands, not a user name."""
    if "\r" in text or "\n" in text:
        raise ValueError(f"{what} {text!r}: a line break cannot be sent in an FTP command")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"{what} {text!r} is not text that can be sent") from None
    return text


def _looks_like_size(value: str) -> bool:
    return bool(re.fullmatch(r"[0-9]+(\.[0-9]+)?\s*[A-Za-z]*", value))


def _shown(text: str) -> str:
    return repr(text if len(text) <= 60 else text[:60] + "…")


class FtpClient(StreamEngine):
    def __init__(self, *, user: str, password: str, commands: list[str], passive: bool = True,
                 server_name: str = "server", parse_size=_parse_size,
                 data_timeout: float = 60.0, data_ports: str = "ephemeral",
                 skip_pasv_ip: bool = True, extended: bool = False) -> None:
        super().__init__()
        self.user = wire_text("user", user)
        self.password = wire_text("password", password)
        self.commands = [self._checked(parse_command(c), parse_size) for c in commands] + [["quit"]]
        self.passive = passive
        if data_ports not in ("ephemeral", "n+1"):
            raise ValueError(f"data_ports {data_ports!r}: 'ephemeral' or 'n+1'")
        self.data_ports = data_ports
        self.skip_pasv_ip = skip_pasv_ip
        self.extended = extended                     # EPSV/EPRT (RFC 2428) instead of PASV/PORT
        self.tnftp = extended                        # FEAT, SIZE/MDTM, EPSV→PASV fallback
        self.features: set[str] | None = None        # what FEAT listed (None: not asked/refused)
        self.modified: dict[str, str] = {}           # get: remote name → MDTM's time
        self._quiet = False                          # the reply due is not printed (tnftp)
        self.server_name = server_name
        self.data_timeout = data_timeout
        self._parse_size = parse_size
        self._lines = LineBuffer(LINE_LIMIT)
        self._reply: list[str] = []                  # the lines of a reply still coming
        self._reply_size = 0
        self._awaiting = True                        # a reply is due (the greeting, first)
        self.lines: list[str] = []                   # what the ftp program printed
        self.local_ip = self.server_ip = IPv4Address(0)
        self.control_port = 0
        self.transfers = 0                           # data transfers begun
        self._data_port = 0
        self._step = "greeting"
        self.current: list[str] | None = None        # the command under way
        self._data: bytearray | None = None
        self._data_open = self._data_done = self._reply_done = self._prelim = False
        self._final_reply: tuple[int, str] | None = None
        self._upload: bytes | None = None
        self._accept_by: float | None = None         # active mode: the server must connect by then
        self._started_at = 0.0
        self.now = 0.0
        self.received: dict[str, bytes] = {}         # get: remote name → bytes
        self.sent: dict[str, bytes] = {}             # put: remote name → bytes
        self.listings: list[str] = []
        self.errors: list[str] = []
        self.logged_in = False
        self.finished = False                        # the session is over (quit, or lost)
        self.binary = False          # TYPE A until "TYPE I" is accepted (RFC 959 §3.1.1.1)

    @staticmethod
    def _checked(words: list[str], parse_size) -> list[str]:
        """What a command puts on the control connection must fit in a line, and a size to
        upload must be one netsim makes up — checked now, not mid-run."""
        for k, word in enumerate(words[1:], 1):
            if words[0] == "put" and k == 2:
                if _looks_like_size(word):
                    check_generated_size(parse_size(word), f"put {words[1]}")
                continue                             # the content goes on the data connection
            wire_text(f"{words[0]}:", word)
        return words

    def endpoints(self, local_ip: IPv4Address, local_port: int, server_ip: IPv4Address) -> None:
        """The control connection's addresses, known once it is being made: PORT names
        ``local_ip``, and the data ports count from ``local_port``."""
        self.local_ip, self.control_port, self.server_ip = local_ip, local_port, server_ip

    # -- the control connection -------------------------------------------------------------

    def start(self, now: float) -> None:
        self.now = now
        self.lines.append(f"Connected to {self.server_name}.")

    def receive(self, data: bytes, now: float) -> None:
        self.now = now
        for line in self._lines.feed(data):
            if self.finished:
                return
            self._line(line.decode("utf-8", "replace"))
        if self._lines.overlong and not self.finished:
            raise PeerError(f"{WEIRD_REPLY}: a line of more than {LINE_LIMIT} bytes")

    def _line(self, text: str) -> None:
        reply = self._reply
        if not reply:
            if _REPLY.match(text) is None:
                raise PeerError(f"{WEIRD_REPLY}: {_shown(text)}")
            reply.append(text)
            self._reply_size = len(text)
            if text[3:4] == "-":
                return                               # the first line of a long reply
        else:
            reply.append(text)
            self._reply_size += len(text) + 2
            if self._reply_size > MAX_REPLY:
                raise PeerError(f"{WEIRD_REPLY}: a reply of more than {MAX_REPLY} bytes")
            if text[:3] != reply[0][:3] or text[3:4] not in (" ", ""):
                return                               # a middle line of a long reply
        self._reply = []
        if not self._quiet:
            self.lines.extend(reply)
        self._on_reply(int(reply[0][:3]), "\n".join(reply))

    def connection_lost(self, now: float) -> None:
        self.now = now
        if not self.finished:
            self._lost(LOST_PEER, print_it=True)

    def get_timer(self) -> float | None:
        return self._accept_by

    def handle_timer(self, now: float) -> None:
        self.now = now
        if self._accept_by is None or now < self._accept_by:
            return
        # Active mode: the server said it would connect (or should have) and did not.
        self._accept_by = None
        self.errors.append(ACCEPT_TIMEOUT)
        self._out += [CloseData(report=False), Failed(ACCEPT_TIMEOUT)]

    # -- the data connection ----------------------------------------------------------------

    def data_connected(self, now: float, peer: IPv4Address | None = None) -> None:
        """The data connection is up (``peer``: where from; the ftp program does not check)."""
        self.now = now
        if self._step not in ("connecting", "port", "transfer") or self._data_open:
            self._out.append(CloseData(report=False))      # nobody asked for this one
            return
        self._data_open = True
        self._accept_by = None
        if self._step == "connecting":
            self._transfer_command()
        elif self._step == "transfer" and self._upload is not None and self._prelim:
            self._send_upload()

    def data_listening(self, now: float, port: int) -> None:
        """Active mode: the socket asked for with ListenData listens on ``port`` (the
        kernel's choice for port 0): name it in PORT/EPRT."""
        self.now = now
        if self._step != "listen":
            return
        self._data_port = port
        self._step = "port"
        self._send_port()

    def data_failed(self, now: float, reason: str = "Connection timed out") -> None:
        self.now = now
        self._data_open = False
        if self._step == "connecting":
            # As the ftp program says when its connect() to the 227's port fails.
            self.lines.append(f"ftp: connect: {reason}")
            self.errors.append(f"{' '.join(self.current)}: data connection failed")
            self._next()
        elif self._step == "listen":
            # bind() on N+k failed (another socket has it): no PORT, the command fails.
            self.lines.append(f"ftp: bind: {reason}")
            self.errors.append(f"{' '.join(self.current)}: data connection failed")
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
        self._data_open, self._data_done = False, True
        self.errors.append(f"{' '.join(self.current or [])}: data connection reset")
        self._maybe_finish_transfer()

    def data_done(self, now: float) -> None:
        """An upload's bytes are all out and the data connection is closing."""
        self.now = now
        self._data_done = True
        self._maybe_finish_transfer()

    # -- the conversation -------------------------------------------------------------------

    def _on_reply(self, code: int, text: str) -> None:
        if code == 421:
            # RFC 959 §4.2: the server is closing the control connection (vsftpd's idle
            # timeout says "421 Timeout."); the ftp program calls lostpeer().
            return self._lost(text, print_it=False)
        if not self._awaiting:
            return                                   # unsolicited: printed, and let be
        ok, prelim = 200 <= code < 300, 100 <= code < 200
        self._quiet = False
        step = self._step
        self._awaiting = step == "transfer" and prelim or step == "greeting" and prelim
        if step == "greeting":
            if prelim:
                return                               # "120 ready in a minute": wait for 220
            if not ok:
                return self._lost(f"no greeting: {text}", print_it=False)
            self._step = "user"
            self.lines.append(f"Name ({self.server_name}:{self.user}): {self.user}")
            self._send(f"USER {self.user}")
        elif step == "user":
            if ok:
                return self._logged_in()
            if code != 331:
                self.errors.append(f"login failed: {text}")
                self.lines.append("Login failed.")
                return self._quit(None)
            self._step = "pass"
            self.lines.append("Password:")
            self._send(f"PASS {self.password}")
        elif step == "pass":
            if not ok:
                self.errors.append(f"login failed: {text}")
                self.lines.append("Login failed.")
                return self._quit(None)
            self._logged_in()
        elif step == "syst":
            words = text[4:].split()
            if code == 215 and words:
                self.lines.append(f"Remote system type is {words[0]}.")
            if self.tnftp:
                self._step = "feat"
                return self._send("FEAT", quiet=True)
            self._step = "type"
            self._send("TYPE I")
        elif step == "feat":
            if code == 211:            # RFC 2389 §3.2: one feature per line between the ends
                self.features = {line.split()[0].upper() for line in text.split("\n")[1:-1]
                                 if line.strip()}
            self._step = "type"
            self._send("TYPE I")
        elif step == "size":
            self._open_data()          # tnftp only wanted it for its progress meter
        elif step == "mdtm":
            if code == 213:
                self.modified[self.current[1]] = text[4:].strip()
            self._next()
        elif step == "type":
            if code == 200:
                self.binary = True
                self.lines.append("Using binary mode to transfer files.")
            self._next()
        elif step == "simple":
            if not ok:
                self.errors.append(f"{' '.join(self.current)}: {text}")
            elif self.current[0] in ("ascii", "binary"):
                self.binary = self.current[0] == "binary"
            self._next()
        elif step == "rnfr":
            if code != 350:
                self.errors.append(f"rename: {text}")
                return self._next()
            self._step = "simple"
            self._send(f"RNTO {self.current[2]}")
        elif step == "port":
            if self.tnftp and self.extended and 500 <= code < 600:
                self.extended = False  # tnftp's epsv4bad: PORT from now on
                return self._send_port()
            if code != 200:
                self.errors.append(f"{'EPRT' if self.extended else 'PORT'}: {text}")
                self._out.append(CloseData(report=False))     # stop listening
                return self._next()
            self._transfer_command()
        elif step == "pasv":
            self._passive_reply(code, text)
        elif step == "transfer":
            self._transfer_reply(code, text)
        elif step == "quit":
            self.finished = True
            self._out.append(Close())

    def _passive_reply(self, code: int, text: str) -> None:
        """The server's 227 (or 229) names where to connect (RFC 959 §4.1.2, RFC 2428 §3)."""
        if self.tnftp and self.extended and 500 <= code < 600:
            self.extended = False      # tnftp: "disabling epsv4 for this connection"; PASV
            return self._send("PASV")
        wanted = 229 if self.extended else 227
        target = None
        if not 200 <= code < 300:
            problem = "Passive mode refused."
        elif code // 10 == 22 and code != wanted:
            problem = f"wrong server: return code must be {wanted}"
        else:
            target = self._extended_port(text) if self.extended else self._host_port(text)
            problem = SCAN_FAILURE if target is None else None
        if problem is not None:
            self.lines.append(problem)
            self.errors.append(problem if problem == SCAN_FAILURE else
                               f"{'EPSV' if self.extended else 'PASV'}: {text}")
            return self._next()
        address, port = target
        if self.skip_pasv_ip and int(self.server_ip) and address != self.server_ip:
            # curl's --ftp-skip-pasv-ip (its default since 7.74), ftplib's default.
            self.lines.append(f"Skip {address} for data connection, reuse {self.server_name} "
                              f"instead")
            address = self.server_ip
        # connect() first; the command goes once the data connection is up.
        self._step = "connecting"
        self._out.append(ConnectData(address, port, self._data_port, self.data_timeout))

    @staticmethod
    def _host_port(text: str) -> tuple[IPv4Address, int] | None:
        match = _HOST_PORT.search(text, 4)
        if match is None or any(len(g) > 3 for g in match.groups()):
            return None
        n = [int(g) for g in match.groups()]
        if max(n) > 255:                 # six one-byte numbers, or it is not an address
            return None
        return IPv4Address(bytes(n[:4])), n[4] * 256 + n[5]

    def _extended_port(self, text: str) -> tuple[IPv4Address, int] | None:
        match = _EXTENDED.search(text, 4)
        if match is None or len(match.group(2)) > 5 or not 1 <= int(match.group(2)) <= 65535:
            return None
        return self.server_ip, int(match.group(2))         # the control connection's host

    def _transfer_reply(self, code: int, text: str) -> None:
        if 100 <= code < 200:
            self._prelim = True
            if self._upload is not None and self._data_open:
                self._send_upload()
            return
        self._final_reply = (code, text)
        self._reply_done = True
        self._accept_by = None
        if not 200 <= code < 300:
            self.errors.append(f"{' '.join(self.current)}: {text}")
            self._data_done = True
        elif not self._prelim:
            # RFC 959 §5.4: a transfer's data comes after a 1yz reply; without one the ftp
            # program takes the command as failed and opens no data connection.
            self.errors.append(f"{' '.join(self.current)}: {text}")
            self._data_done = True
        self._maybe_finish_transfer()

    def _logged_in(self) -> None:
        self.logged_in = True
        self._step = "syst"
        self._send("SYST", quiet=self.tnftp)        # tnftp (verbose -1) prints no 215

    def _next(self) -> None:
        command = self.commands.pop(0)
        self.current = command
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
        if verb == "epsv4":
            self.extended = not self.extended
            self.lines.append(f"EPSV/EPRT on IPv4 {'on' if self.extended else 'off'}.")
            return self._next()
        if verb in ("ls", "dir", "nlist", "get", "put"):
            return self._begin_transfer(verb, args)
        if verb == "rename":
            self._step = "rnfr"
            return self._send(f"RNFR {args[0]}")
        simple = {"cd": "CWD", "cdup": "CDUP", "pwd": "PWD", "mkdir": "MKD", "rmdir": "RMD",
                  "delete": "DELE", "size": "SIZE", "modtime": "MDTM"}
        if verb in ("ascii", "binary"):
            return self._send("TYPE A" if verb == "ascii" else "TYPE I")
        self._send(simple[verb] + (f" {args[0]}" if _NEEDS.get(verb) else ""))

    def _begin_transfer(self, verb: str, args: list[str]) -> None:
        self.transfers += 1
        if self.data_ports == "n+1":
            # N+k, kept among the ports a socket may have (a long script wraps around).
            self._data_port = 1024 + (self.control_port + self.transfers - 1024) % (65536 - 1024)
        else:
            self._data_port = 0                      # the kernel's choice, each time
        self._data = bytearray()
        self._upload = None
        self._data_open = self._data_done = self._reply_done = self._prelim = False
        self._final_reply = None
        self._started_at = self.now
        if verb in ("get", "put"):
            self.lines.append(f"local: {args[0]} remote: {args[0]}")
        if verb == "put":
            value = args[1]
            self._upload = value.encode() if not _looks_like_size(value) else \
                content_of(args[0], self._parse_size(value))
        if verb == "get" and self._feature("SIZE"):
            self._step = "size"
            return self._send(f"SIZE {args[0]}", quiet=True)
        self._open_data()

    def _feature(self, name: str) -> bool:
        """tnftp asks SIZE and MDTM unless FEAT answered without them."""
        return self.tnftp and (self.features is None or name in self.features)

    def _open_data(self) -> None:
        if self.passive:
            self._step = "pasv"
            self._send("EPSV" if self.extended else "PASV")
            return
        self._step = "listen"
        self._out.append(ListenData(self._data_port))

    def _send_port(self) -> None:
        p = self._data_port
        if self.extended:
            self._send(f"EPRT |1|{self.local_ip}|{p}|")
        else:
            h = self.local_ip.packed
            self._send(f"PORT {h[0]},{h[1]},{h[2]},{h[3]},{p >> 8},{p & 255}")

    def _transfer_command(self) -> None:
        verb, args = self.current[0], self.current[1:]
        self._step = "transfer"
        command = {"ls": "LIST", "dir": "LIST", "nlist": "NLST"}.get(verb)
        if command is not None:
            self._send(command + (f" {args[0]}" if args else ""))
        elif verb == "get":
            self._send(f"RETR {args[0]}")
        else:
            self._send(f"STOR {args[0]}")
        if not self.passive and not self._data_open:
            self._accept_by = self.now + self.data_timeout

    def _send_upload(self) -> None:
        data, self._upload = self._upload, None
        self.sent[self.current[1]] = data
        wire = data if self.binary else data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        self._out.append(SendData(wire))
        self._out.append(CloseData())

    def _maybe_finish_transfer(self) -> None:
        """A transfer is over when the reply has come *and* the data connection closed."""
        if not (self._reply_done and self._data_done) or self._step != "transfer":
            return
        verb = self.current[0]
        code, _text = self._final_reply
        if 200 <= code < 300 and self._prelim:
            data = bytes(self._data or b"")
            seconds = max(self.now - self._started_at, 1e-9)
            if verb in ("ls", "dir", "nlist"):
                self.listings.append(data.decode("utf-8", "replace"))
                self.lines[-1:-1] = data.decode("utf-8", "replace").rstrip("\r\n").split("\r\n") \
                    if data else []
            elif verb == "get":
                # In ASCII mode the wire's CRLF line ends become the local LF.
                self.received[self.current[1]] = data if self.binary else data.replace(b"\r\n", b"\n")
                self.lines.append(f"{len(data)} bytes received in {seconds:.3g} secs "
                                  f"({len(data) / seconds / 1024:.4g} kB/s)")
            elif verb == "put":
                size = len(self.sent.get(self.current[1], b""))
                self.lines.append(f"{size} bytes sent in {seconds:.3g} secs "
                                  f"({size / seconds / 1024:.4g} kB/s)")
        elif self._data_open or not self.passive:
            # The ftp program closes its data socket (or the one it listened on) and goes on.
            self._out.append(CloseData(report=False))
        self._data_open = False
        if verb == "get" and 200 <= code < 300 and self._prelim and self._feature("MDTM"):
            self._step = "mdtm"                      # tnftp: to set the local file's time
            return self._send(f"MDTM {self.current[1]}", quiet=True)
        self._next()

    def _quit(self, error: str | None) -> None:
        if error:
            self.errors.append(error)
        self.commands = [["quit"]]
        self._next()

    def _lost(self, error: str, *, print_it: bool) -> None:
        """The session is over without a QUIT: the server closed, or said 421."""
        if print_it:
            self.lines.append(error)
        self.errors.append(error)
        self.finished = True
        self._accept_by = None
        self._out += [CloseData(report=False), Close("lost peer")]

    def _send(self, command: str, *, quiet: bool = False) -> None:
        self._awaiting = True
        self._quiet = quiet
        self._out.append(Send(command.encode() + b"\r\n"))

    # -- results ------------------------------------------------------------------------------

    def received_sha256(self) -> dict[str, str]:
        return {name: hashlib.sha256(data).hexdigest() for name, data in self.received.items()}
