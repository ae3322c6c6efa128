"""The mail protocols as the rest of netsim knows them: SMTP (RFC 5321, submission on
587 by RFC 6409), POP3 (RFC 1939) and IMAP (RFC 3501), each a conversation of lines
whose every turn the application-level diagram draws as one message."""

from netsim.wire.registry import TURNS, Protocol, register

SMTP = register(Protocol("SMTP", "#c0392b", tcp_ports=(25, 587), messages=TURNS, tshark="SMTP"))
#: Named as tshark names it; ``pop3`` as the app (``pop3-fetch``) and RFC 1939 call it.
POP = register(Protocol("POP", "#6c3483", words=("pop", "pop3"), tcp_ports=(110,),
                        messages=TURNS, tshark="POP"))
IMAP = register(Protocol("IMAP", "#1a5276", tcp_ports=(143,), messages=TURNS, tshark="IMAP"))
