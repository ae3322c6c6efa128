"""An FTP server session (RFC 959, EPSV/EPRT from RFC 2428, SIZE/MDTM from RFC 3659),
sans-I/O, on the line-server base of :mod:`netsim.proto.stream`.

The session reads commands from the control connection and answers with replies;
it never touches a socket. A file or listing travels on a *data connection* that the
session asks its driver for (:mod:`netsim.proto.ftp.data`):

- active mode (``PORT``/``EPRT``): :class:`ConnectData` — connect from port 20 to the
  address the client named (RFC 959 §3.2). As vsftpd does, a PORT naming another host
  than the client (the FTP bounce attack, RFC 2577 §3) or a port below 1024 is refused;
- passive mode (``PASV``/``EPSV``): :class:`ListenData` — listen on a port the
  driver chose, announced in the 227/229 reply; the client connects, and a data
  connection from any other address than the client's is refused (vsftpd's
  ``425 Security: Bad IP connecting.``). When the driver has no free port left
  (``passive_ports`` yields None or ends), the answer is ``425 Can't open passive
  connection.``

When the connection is up (:meth:`data_connected`) the session sends with
:class:`SendData` and :class:`CloseData` — the close is the end of the file (MODE S) —
and replies 226 once the driver says it is done (:meth:`data_done`); it receives an
upload with :meth:`data_received` until :meth:`data_closed`. A connection that cannot
be made, or is not made within ``data_timeout``, is 425; one that breaks is 426. TYPE A
sends text with CRLF line ends and stores uploads with LF (RFC 959 §3.1.1.1). A session
with nothing to do for ``idle_timeout`` ends with vsftpd's ``421 Timeout.``.

Numbers a client sends are read as vsftpd reads them: ASCII digits only ("٣" and "²"
are digits to Python's int(), not to an FTP server), each in its range.

Reply codes: 150, 200, 211, 213, 214, 215, 220, 221, 225, 226, 227, 229, 230, 250,
257, 331, 350, 421, 425, 426, 500, 501, 503, 504, 522, 530, 550, 553.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from ipaddress import IPv4Address

from netsim.proto.ftp.data import CloseData, ConnectData, ListenData, SendData
from netsim.proto.ftp.tree import FileTree, fits, normalize
from netsim.proto.stream import Close, LineServer, Send
from netsim.proto.wallclock import utc

ACTIVE_DATA_PORT = 20                 # L-1, the data port next to 21 (§3.2)
RESERVED_PORTS = 1024                 # vsftpd refuses to connect below (port_promiscuous=NO)

_PORT_ARG = re.compile(r"[0-9]{1,3}(,[0-9]{1,3}){5}")
_IPV4 = re.compile(r"[0-9]{1,3}(\.[0-9]{1,3}){3}")
_NUMBER = re.compile(r"[0-9]{1,5}")


@dataclass(frozen=True, slots=True)
class Transferred:
    """A file went in or out: for the driver's log and the run's summary."""
    command: str
    path: str
    size: int


class FtpServerSession(LineServer):
    LINE_LIMIT = 4096                 # vsftpd's VSFTP_MAX_COMMAND_LINE

    def __init__(self, tree: FileTree, *, users: dict[str, str], anonymous: bool = False,
                 hostname: str = "ftp", server_ip: IPv4Address | None = None,
                 client_ip: IPv4Address | None = None, passive_ports=None,
                 data_timeout: float = 10.0, idle_timeout: float = 300.0) -> None:
        super().__init__()
        self.tree = tree
        self.users, self.anonymous = users, anonymous
        self.hostname = hostname
        self.server_ip = server_ip if server_ip is not None else IPv4Address(0)
        self.client_ip = client_ip                 # None: not known, nothing checked
        self._ports = passive_ports or iter(range(30000, 31000))
        self.data_timeout, self.idle_timeout = data_timeout, idle_timeout
        self.user: str | None = None
        self._pending_user: str | None = None
        self.cwd = "/"
        self.binary = False                    # TYPE A until the client asks for I
        self._data_mode: str | None = None     # "active", "passive" or "refused", once asked
        self._data_target: tuple[IPv4Address, int] | None = None
        self._data_up = False
        self._transfer: tuple | None = None    # (command, path, data) under way
        self._upload = bytearray()
        self._rename_from: str | None = None
        self._idle_by: float | None = None     # the session ends if nothing comes by then
        self._accept_by: float | None = None   # passive: the client must connect by then

    # -- the control connection -----------------------------------------------------------

    def start(self, now: float) -> None:
        self.now = now
        self._idle_by = now + self.idle_timeout
        self._ok(220, f"({self.hostname} FTP server ready)")

    def receive(self, data: bytes, now: float) -> None:
        self._idle_by = now + self.idle_timeout
        super().receive(data, now)

    def connection_lost(self, now: float) -> None:
        """The client closed the control connection: the session is over (vsftpd's
        process exits, and its data connection and listening socket go with it)."""
        self.now = now
        self.closed = True
        if self._data_mode is not None:
            self._out.append(CloseData(report=False))

    def get_timer(self) -> float | None:
        if self.closed:
            return None
        if self._transfer is not None:
            return self._accept_by
        return self._idle_by

    def handle_timer(self, now: float) -> None:
        self.now = now
        if self.closed:
            return
        if self._accept_by is not None and now >= self._accept_by:
            self._accept_by = None
            self._out.append(CloseData(report=False))       # stop listening
            self._finish(425, "Can't open data connection.")
        elif self._transfer is None and self._idle_by is not None and now >= self._idle_by:
            self._ok(421, "Timeout.")                        # vsftpd's idle_session_timeout
            self.closed = True
            self._out.append(Close("idle"))

    def command(self, verb: str, arg: str, handler) -> None:
        if self.user is None and verb not in ("USER", "PASS", "QUIT", "SYST", "FEAT", "NOOP"):
            return self._error(530, "Please login with USER and PASS.")
        if self._transfer is not None and verb not in ("ABOR", "NOOP", "QUIT", "STAT"):
            return self._ok(503, "Transfer in progress; wait for it, or ABOR.")
        if verb != "RNTO" and self._rename_from is not None:
            self._rename_from = None
        # A password is the rest of the line as sent; other arguments lose outer spaces.
        handler(arg if verb == "PASS" else arg.strip())

    def unknown(self, verb: str, arg: str) -> None:
        self._error(500, "Unknown command.")

    def too_long(self) -> None:
        self._error(500, "Command line too long.")

    def too_many_errors(self) -> None:
        self._ok(421, "Too many errors; closing control connection.")

    # -- login --------------------------------------------------------------------------------

    def _cmd_user(self, arg: str) -> None:
        if not arg:
            return self._error(501, "USER needs a name.")
        self.user, self._pending_user = None, arg
        if arg in ("anonymous", "ftp") and self.anonymous:
            return self._ok(331, "Please send your email address as the password.")
        self._ok(331, "Please specify the password.")

    def _cmd_pass(self, arg: str) -> None:
        name, self._pending_user = self._pending_user, None
        if name is None:
            return self._ok(503, "Login with USER first.")
        if (name in ("anonymous", "ftp") and self.anonymous) or self.users.get(name) == arg:
            self.user = name
            return self._ok(230, "Login successful.")
        self._error(530, "Login incorrect.")

    def _cmd_quit(self, arg: str) -> None:
        self._ok(221, "Goodbye.")
        self.closed = True
        self._out.append(Close())

    # -- information ---------------------------------------------------------------------------

    def _cmd_syst(self, arg: str) -> None:
        self._ok(215, "UNIX Type: L8")

    def _cmd_feat(self, arg: str) -> None:
        self._out.append(self._reply(211, "Features:", " EPRT", " EPSV", " MDTM", " PASV",
                                     " SIZE", " UTF8", "End"))

    def _cmd_noop(self, arg: str) -> None:
        self._ok(200, "NOOP ok.")

    def _cmd_help(self, arg: str) -> None:
        self._out.append(self._reply(214, "The following commands are recognized.",
                                     " ABOR CDUP CWD DELE EPRT EPSV FEAT LIST MDTM MKD MODE NLST",
                                     " NOOP PASS PASV PORT PWD QUIT RETR RMD RNFR RNTO SIZE STOR",
                                     " STRU SYST TYPE USER", "Help OK."))

    def _cmd_pwd(self, arg: str) -> None:
        self._ok(257, f'"{self.cwd}" is the current directory')

    def _cmd_cwd(self, arg: str) -> None:
        path = normalize(self.cwd, arg or "/")
        node = self.tree.find(path)
        if node is None or not node.is_dir:
            return self._ok(550, "Failed to change directory.")
        self.cwd = path
        self._ok(250, "Directory successfully changed.")

    def _cmd_cdup(self, arg: str) -> None:
        self._cmd_cwd("..")

    def _cmd_type(self, arg: str) -> None:
        kind = arg.upper().split()
        if kind[:1] == ["I"] or kind[:2] == ["L", "8"]:
            self.binary = True
            return self._ok(200, "Switching to Binary mode.")
        if kind[:1] == ["A"] and kind[1:] in ([], ["N"]):
            self.binary = False
            return self._ok(200, "Switching to ASCII mode.")
        if kind[:1] in (["E"], ["A"]):
            return self._ok(504, "Command not implemented for that parameter.")
        self._error(501, "Unrecognised TYPE command.")

    def _cmd_mode(self, arg: str) -> None:
        if arg.upper() == "S":
            return self._ok(200, "Mode set to S.")
        self._ok(504, "Bad MODE command.")

    def _cmd_stru(self, arg: str) -> None:
        if arg.upper() == "F":
            return self._ok(200, "Structure set to F.")
        self._ok(504, "Bad STRU command.")

    def _cmd_size(self, arg: str) -> None:
        node = self.tree.find(normalize(self.cwd, arg))
        if node is None or node.is_dir:
            return self._ok(550, "Could not get file size.")
        if not self.binary:               # RFC 3659 §4: the size depends on the TYPE
            return self._ok(550, "SIZE not allowed in ASCII mode.")
        self._ok(213, str(len(node.data)))

    def _cmd_mdtm(self, arg: str) -> None:
        node = self.tree.find(normalize(self.cwd, arg))
        if node is None or node.is_dir:
            return self._ok(550, "Could not get file modification time.")
        self._ok(213, time.strftime("%Y%m%d%H%M%S", utc(node.modified)))

    # -- changing the tree ------------------------------------------------------------------------

    def _cmd_mkd(self, arg: str) -> None:
        path = normalize(self.cwd, arg)
        if not arg or not self.tree.mkdir(path, self.now):
            return self._ok(550, "Create directory operation failed.")
        self._ok(257, f'"{path}" created')

    def _cmd_rmd(self, arg: str) -> None:
        if not arg or not self.tree.remove(normalize(self.cwd, arg), directory=True):
            return self._ok(550, "Remove directory operation failed.")
        self._ok(250, "Remove directory operation successful.")

    def _cmd_dele(self, arg: str) -> None:
        if not arg or not self.tree.remove(normalize(self.cwd, arg), directory=False):
            return self._ok(550, "Delete operation failed.")
        self._ok(250, "Delete operation successful.")

    def _cmd_rnfr(self, arg: str) -> None:
        path = normalize(self.cwd, arg)
        if not arg or self.tree.find(path) is None:
            return self._ok(550, "RNFR command failed.")
        self._ok(350, "Ready for RNTO.")
        self._rename_from = path

    def _cmd_rnto(self, arg: str) -> None:
        source, self._rename_from = self._rename_from, None
        if source is None:
            return self._ok(503, "RNFR required first.")
        if not arg or not self.tree.rename(source, normalize(self.cwd, arg)):
            return self._ok(550, "Rename failed.")
        self._ok(250, "Rename successful.")

    # -- the data connection ---------------------------------------------------------------------

    def _cmd_port(self, arg: str) -> None:
        self._drop_data()
        numbers = [int(n) for n in arg.split(",")] if _PORT_ARG.fullmatch(arg) else []
        if not numbers or max(numbers) > 255:
            return self._error(500, "Illegal PORT command.")
        self._active(IPv4Address(bytes(numbers[:4])), numbers[4] * 256 + numbers[5], "PORT")

    def _cmd_eprt(self, arg: str) -> None:
        # RFC 2428 §2: EPRT <d><net-prt><d><net-addr><d><tcp-port><d>, <d> one printable
        # character (vsftpd takes only "|").
        self._drop_data()
        parts = arg.split(arg[0]) if arg and "!" <= arg[0] <= "~" else []
        if len(parts) != 5 or parts[0] or parts[4]:
            return self._error(500, "Bad EPRT command.")
        if parts[1] != "1":
            return self._error(500, "Bad EPRT protocol.")        # only IPv4 here
        address, port = parts[2], parts[3]
        if not _IPV4.fullmatch(address) or max(int(p) for p in address.split(".")) > 255 \
                or not _NUMBER.fullmatch(port) or int(port) > 65535:
            return self._error(500, "Bad EPRT command.")
        self._active(IPv4Address(address), int(port), "EPRT")

    def _active(self, address: IPv4Address, port: int, verb: str) -> None:
        if (self.client_ip is not None and address != self.client_ip) or port < RESERVED_PORTS:
            # vsftpd (port_promiscuous=NO): no FTP bounce, no privileged port.
            return self._error(500, f"Illegal {verb} command.")
        self._data_mode, self._data_target = "active", (address, port)
        if verb == "EPRT":
            return self._ok(200, "EPRT command successful. Consider using EPSV.")
        self._ok(200, "PORT command successful. Consider using PASV.")

    def _cmd_pasv(self, arg: str) -> None:
        port = self._passive()
        if port is None:
            return self._ok(425, "Can't open passive connection.")
        h = self.server_ip.packed
        self._ok(227, f"Entering Passive Mode ({h[0]},{h[1]},{h[2]},{h[3]},{port >> 8},{port & 255}).")

    def _cmd_epsv(self, arg: str) -> None:
        if arg.upper() == "ALL":
            return self._ok(200, "EPSV ALL ok.")
        if arg not in ("", "1"):
            return self._ok(522, "Bad network protocol.")
        port = self._passive()
        if port is None:
            return self._ok(425, "Can't open passive connection.")
        self._ok(229, f"Entering Extended Passive Mode (|||{port}|)")

    def _passive(self) -> int | None:
        self._drop_data()
        port = next(self._ports, None)
        if port is None:
            return None                            # every port of the range is taken
        self._data_mode, self._data_up = "passive", False
        self._out.append(ListenData(port))
        return port

    def _drop_data(self) -> None:
        """A new PORT or PASV replaces what the last one set up (vsftpd's port_cleanup and
        pasv_cleanup): its listening socket or unused data connection is closed."""
        if self._data_mode is not None:
            self._out.append(CloseData(report=False))
        self._data_mode, self._data_up = None, False

    def _cmd_list(self, arg: str, names_only: bool = False) -> None:
        target = normalize(self.cwd, arg if arg and not arg.startswith("-") else ".")
        node = self.tree.find(target)
        if node is None:
            return self._ok(550, "Failed to open file or directory.")
        entries = sorted(node.children.values(), key=lambda n: n.name) if node.is_dir else [node]
        if names_only:
            text = "".join(f"{n.name}\r\n" for n in entries)
        else:
            text = "".join(_ls_line(n) for n in entries)
        self._start_transfer("LIST", target, text.encode(), "Here comes the directory listing.")

    def _cmd_nlst(self, arg: str) -> None:
        self._cmd_list(arg, names_only=True)

    def _cmd_retr(self, arg: str) -> None:
        path = normalize(self.cwd, arg)
        node = self.tree.find(path)
        if not arg or node is None or node.is_dir:
            return self._ok(550, "Failed to open file.")
        data = node.data if self.binary else node.data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        mode = "BINARY" if self.binary else "ASCII"
        self._start_transfer("RETR", path, data, f"Opening {mode} mode data connection for "
                                                  f"{path.rsplit('/', 1)[-1]} ({len(node.data)} bytes).")

    def _cmd_stor(self, arg: str) -> None:
        path = normalize(self.cwd, arg)
        parent, name = self.tree.parent_of(path)
        if not arg or not fits(path) or parent is None or not parent.is_dir or not name or \
                (name in parent.children and parent.children[name].is_dir):
            return self._ok(553, "Could not create file.")
        self._upload = bytearray()
        mode = "BINARY" if self.binary else "ASCII"
        self._start_transfer("STOR", path, None, f"Ok to send data ({mode} mode).")

    def _start_transfer(self, command: str, path: str, data: bytes | None, text: str) -> None:
        if self._data_mode is None:
            return self._ok(425, "Use PORT or PASV first.")
        if self._data_mode == "refused":
            self._data_mode = None
            return self._ok(425, "Security: Bad IP connecting.")
        self._transfer = (command, path, data)
        # 150 even when a passive client has connected already, as vsftpd and ProFTPD say:
        # the connection was opened for this transfer (125 is for one left open, which
        # MODE S never does — its close is the end of the file).
        self._ok(150, text)
        if self._data_up:
            self._go()
        elif self._data_mode == "active":
            address, port = self._data_target
            self._out.append(ConnectData(address, port, ACTIVE_DATA_PORT, self.data_timeout))
        else:
            self._accept_by = self.now + self.data_timeout      # vsftpd's accept_timeout

    def _go(self) -> None:
        command, _path, data = self._transfer
        if command != "STOR":
            if data:
                self._out.append(SendData(data))
            self._out.append(CloseData())

    # -- what the driver reports about the data connection ---------------------------------------

    def data_listening(self, now: float, port: int) -> None:
        """The passive listener is up on the port the 227 named: nothing to do."""

    def data_connected(self, now: float, peer: IPv4Address | None = None) -> None:
        """The data connection is up (``peer``: the address it came from, passive mode)."""
        self.now = now
        if self._data_mode not in ("active", "passive") or self._data_up:
            self._out.append(CloseData(report=False))       # nobody asked for this one
            return
        if self._data_mode == "passive" and None not in (peer, self.client_ip) \
                and peer != self.client_ip:
            # vsftpd (pasv_promiscuous=NO): data only from the control connection's host.
            self._out.append(CloseData(report=False))
            if self._transfer is not None:
                self._accept_by = None
                return self._finish(425, "Security: Bad IP connecting.")
            self._data_mode = "refused"
            return
        self._data_up = True
        self._accept_by = None
        if self._transfer is not None:
            self._go()

    def data_failed(self, now: float, reason: str = "") -> None:
        self.now = now
        self._data_up = False
        if self._transfer is not None:
            self._finish(425, "Can't open data connection.")
        else:
            self._data_mode = None

    def data_done(self, now: float = 0.0) -> None:
        """Everything sent went out and the connection is closing: the transfer is over."""
        self.now = now
        if self._transfer is None or self._transfer[0] == "STOR":
            return
        command, path, data = self._transfer
        self._finish(226, "Directory send OK." if command == "LIST" else "Transfer complete.")
        self._out.append(Transferred(command, path, len(data or b"")))

    def data_received(self, data: bytes, now: float = 0.0) -> None:
        self.now = now
        if self._transfer is not None and self._transfer[0] == "STOR" and self._data_up:
            self._upload += data

    def data_closed(self, now: float = 0.0) -> None:
        """The peer closed the data connection: the end of an upload."""
        self.now = now
        if self._transfer is None or self._transfer[0] != "STOR" or not self._data_up:
            if self._transfer is None:
                self._data_mode, self._data_up = None, False
            return
        _command, path, _ = self._transfer
        data = bytes(self._upload) if self.binary else bytes(self._upload).replace(b"\r\n", b"\n")
        self.tree.write(path, data, now)
        self._finish(226, "Transfer complete.")
        self._out.append(Transferred("STOR", path, len(data)))

    def data_broken(self, now: float = 0.0) -> None:
        """The data connection was reset or lost mid-transfer."""
        self.now = now
        if self._transfer is not None:
            self._finish(426, "Failure writing network stream.")
        else:
            self._data_mode, self._data_up = None, False

    def _cmd_abor(self, arg: str) -> None:
        if self._transfer is None:
            return self._ok(225, "No transfer to ABOR.")
        self._out.append(CloseData(abort=True))
        self._finish(426, "Connection closed; transfer aborted.")
        self._ok(226, "ABOR successful.")

    def _finish(self, code: int, text: str) -> None:
        self._transfer, self._data_mode, self._data_up = None, None, False
        self._accept_by = None
        self._idle_by = self.now + self.idle_timeout
        self._ok(code, text)

    # -- replies -----------------------------------------------------------------------------------

    @staticmethod
    def _reply(code: int, *lines: str) -> Send:
        """One reply; several lines as ``211-…`` then ``211 End`` (RFC 959 §4.2)."""
        if len(lines) == 1:
            return Send(f"{code} {lines[0]}\r\n".encode())
        middle = "".join(f"{line}\r\n" for line in lines[1:-1])
        return Send(f"{code}-{lines[0]}\r\n{middle}{code} {lines[-1]}\r\n".encode())

    def _ok(self, code: int, text: str) -> None:
        self._out.append(self._reply(code, text))

    def _error(self, code: int, text: str) -> None:
        if not self.count_error():
            self._ok(code, text)


def _ls_line(node) -> str:
    """A line of ``ls -l`` as vsftpd writes it."""
    stamp = time.strftime("%b %d %H:%M", utc(node.modified))
    if node.is_dir:
        return f"drwxr-xr-x    2 ftp      ftp          4096 {stamp} {node.name}\r\n"
    return f"-rw-r--r--    1 ftp      ftp      {len(node.data):>8} {stamp} {node.name}\r\n"
