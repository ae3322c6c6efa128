"""Mail (RFC 5321/5322, RFC 1939, RFC 3501), sans-I/O: SMTP server sessions and a client,
POP3 and IMAP server sessions and clients over one mailbox store, and the relay's queue
(:mod:`netsim.proto.mail.relay`)."""

from netsim.proto.mail.imap import ImapServerSession
from netsim.proto.mail.imap_client import ImapClient
from netsim.proto.mail.pop3 import Pop3ServerSession
from netsim.proto.mail.pop3_client import Pop3Client
from netsim.proto.mail.smtp import Accepted, Policy, SmtpServerSession
from netsim.proto.mail.smtp_client import Done, Reply, SmtpClient
from netsim.proto.mail.store import MailStore
from netsim.proto.stream import Close, Send

__all__ = ["Accepted", "Close", "Done", "ImapClient", "ImapServerSession", "MailStore", "Policy",
           "Pop3Client", "Pop3ServerSession", "Reply", "Send", "SmtpClient", "SmtpServerSession"]
