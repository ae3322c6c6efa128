"""FTP (RFC 959, RFC 2428, RFC 3659), sans-I/O: a server session and a client, with the
data connection asked of the driver as outputs, and the server's file tree."""

from netsim.proto.ftp.client import FtpClient, parse_command
from netsim.proto.ftp.server import FtpServerSession
from netsim.proto.ftp.tree import FileTree, content_of

__all__ = ["FileTree", "FtpClient", "FtpServerSession", "content_of", "parse_command"]
