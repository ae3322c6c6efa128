"""Mail (RFC 5321/5322, RFC 1939, RFC 3501), sans-I/O: SMTP server sessions and a client,
POP3 and IMAP server sessions and clients, over one mailbox store."""

from netsim.proto.mail.imap import ImapServerSession
from netsim.proto.mail.imap_client import ImapClient
from netsim.proto.mail.pop3 import Pop3Client, Pop3ServerSession
from netsim.proto.mail.smtp import Accepted, Done, Policy, SmtpClient, SmtpServerSession
from netsim.proto.mail.store import MailStore
from netsim.proto.stream import Close, Send

__all__ = ["Accepted", "Close", "Done", "ImapClient", "ImapServerSession", "MailStore", "Policy",
           "Pop3Client", "Pop3ServerSession", "Send", "SmtpClient", "SmtpServerSession"]
