"""Every protocol netsim names, each declared once: the registry the layers above read.

A :class:`Protocol` says everything the rest of netsim needs to know about a protocol
besides its engine: its name, its well-known ports, its colour, how a frame of it is
labelled, the words ``netsim diagram --filter`` knows it by, how ``--level app`` cuts
its stream into messages, and the name tshark's protocol column gives it (the bundled
scenario tests check that column against the registry).

Who reads it: :mod:`netsim.wire.describe` (which protocol a frame is, by port, and its
one-line label), :mod:`netsim.viz` (colours, labels, filter words, the application
level), ``netsim diagram --help``, and the tests. Nobody else keeps a list of protocols.

Who declares: the protocols below the applications (ARP, RARP, ICMP, UDP, TCP, STP,
Ethernet and IPv4, which :mod:`netsim.wire.describe` recognises by their headers) are
declared at the bottom of this module; each application protocol is declared beside
its engine, in ``netsim/proto/<protocol>/descriptor.py`` (or ``<protocol>_descriptor.py``
beside a one-module engine), and registered when :mod:`netsim.proto` is imported — as
anything that runs a scenario or reads a trace does. Registration order is the order
legends and ``--help`` list protocols in.

No Scapy here: the registry is read at every level, ``netsim --help`` included.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

#: How ``--level app`` cuts a protocol's traffic into messages (``Protocol.messages``).
#: Each frame the protocol names is one message (a DNS query, a DHCP offer).
EACH_FRAME = "frame"
#: Each side's turn of a conversation of lines — the segments it sent before the other
#: answered — is one message labelled by its first line (SMTP, POP3, IMAP, FTP).
TURNS = "turns"
#: RFC 9112 messages, however many segments each took (and after ``101 Switching
#: Protocols``, RFC 6455 frames), read back from the connection's reassembled bytes.
HTTP_MESSAGES = "http"
MESSAGE_CUTS = ("", EACH_FRAME, TURNS, HTTP_MESSAGES)


@dataclass(frozen=True, slots=True)
class DataConnections:
    """A control connection that opens others for its data (FTP, RFC 959 §3.2): the
    diagram names those connections by ``protocol`` and draws them in its colour."""

    #: The protocol the data connections carry, itself registered: ``"FTP-DATA"``.
    protocol: str
    #: The port a server opens them from (FTP's active mode: 20), or None.
    port: int | None
    #: The data connection ends one line of the control connection announces:
    #: ``(address, port)`` pairs, the address as 4 bytes or None for the line's sender
    #: (``PORT h1,…,p2``, ``227 … (h1,…,p2)``, ``229 … (|||P|)``, ``EPRT |1|a|p|``).
    announced: Callable[[str], Iterable[tuple[bytes | None, int]]]


@dataclass(frozen=True, slots=True)
class Protocol:
    """One protocol as the readers of frames know it (see the module docstring)."""

    #: How netsim names it everywhere: labels, diagrams, legends, summaries (``"SMTP"``).
    name: str
    #: Its colour in every picture; None: drawn in the neutral colour and left out of
    #: legends (Ethernet of unknown type, IPv4 of a protocol netsim does not speak).
    color: str | None = None
    #: The words ``netsim diagram --filter`` and a scenario's ``sequence: filter`` know
    #: it by; default: its name in lower case.
    words: tuple[str, ...] = ()
    #: Well-known ports: a datagram or segment to or from one is read as this protocol
    #: (the destination port is asked first, as tshark does).
    udp_ports: tuple[int, ...] = ()
    tcp_ports: tuple[int, ...] = ()
    #: A UDP payload's one-line label, or None when the bytes are not this protocol's
    #: (then the datagram is plain UDP). Needed for ``udp_ports``.
    datagram_label: Callable[[bytes], str | None] | None = None
    #: A TCP segment's payload → its one-line label, or None when it is not this
    #: protocol's. None (the default) for a protocol of text lines (RFC 5321, RFC 959,
    #: RFC 9112 speak in lines): its segments are labelled as TCP is — ``seq=``, ``ack=``
    #: — and a segment that starts a line is labelled by that line, in its colour.
    stream_label: Callable[[bytes], str | None] | None = None
    #: How ``--level app`` cuts its traffic into messages: EACH_FRAME, TURNS or
    #: HTTP_MESSAGES; "" for protocols that level leaves out (ARP, TCP's own segments).
    messages: str = ""
    #: What tshark's protocol column says on a frame netsim names so (a column such as
    #: ``HTTP/JSON`` starts with it); None where tshark may name such a frame by a
    #: protocol netsim does not draw (UDP's ``ECHO``, TCP's ``FTP-DATA``) or nothing fixed.
    tshark: str | None = None
    #: The protocol(s) whose connections this one takes over (WebSocket after HTTP's
    #: ``101 Switching Protocols``, RFC 6455 §4; TLS after SMTP's, POP's and IMAP's
    #: STARTTLS, RFC 3207, RFC 2595): its frames appear on their ports.
    upgrades_from: str | tuple[str, ...] = ""
    #: The data connections its control connection opens (FTP), or None.
    data: DataConnections | None = None

    def __post_init__(self) -> None:
        if not self.words:
            object.__setattr__(self, "words", (self.name.lower(),))
        if self.messages not in MESSAGE_CUTS:
            raise ValueError(f"{self.name}: messages is one of {MESSAGE_CUTS}, not {self.messages!r}")
        if self.udp_ports and self.datagram_label is None:
            raise ValueError(f"{self.name}: a protocol on UDP ports needs a datagram_label")

    @property
    def lines(self) -> bool:
        """Whether it is a protocol of text lines over TCP (labelled as TCP, by its lines)."""
        return bool(self.tcp_ports) and self.stream_label is None


_PROTOCOLS: dict[str, Protocol] = {}
_PORTS: dict[tuple[str, int], Protocol] = {}
_WORDS: dict[str, Protocol] = {}
_DATA_PORTS: dict[int, str] = {}


def register(protocol: Protocol) -> Protocol:
    """Add a protocol (once). A name, port or filter word another protocol has is a
    ValueError: each is one protocol's, or a frame would be named by import order."""
    if protocol.name in _PROTOCOLS:
        if _PROTOCOLS[protocol.name] is protocol:
            return protocol
        raise ValueError(f"protocol {protocol.name!r} is registered already")
    ports = [("udp", p) for p in protocol.udp_ports] + [("tcp", p) for p in protocol.tcp_ports]
    for key in ports:
        if key in _PORTS:
            raise ValueError(f"{protocol.name}: {key[0].upper()} port {key[1]} is "
                             f"{_PORTS[key].name}'s")
    for word in protocol.words:
        if word in _WORDS:
            raise ValueError(f"{protocol.name}: filter word {word!r} is {_WORDS[word].name}'s")
    _PROTOCOLS[protocol.name] = protocol
    _PORTS.update((key, protocol) for key in ports)
    _WORDS.update((word, protocol) for word in protocol.words)
    if protocol.data is not None and protocol.data.port is not None:
        _DATA_PORTS[protocol.data.port] = protocol.data.protocol
    return protocol


def protocols() -> tuple[Protocol, ...]:
    """Every registered protocol, in the order they were registered."""
    return tuple(_PROTOCOLS.values())


def find(name: str) -> Protocol | None:
    """The protocol netsim names ``name`` (``"SMTP"``), or None."""
    return _PROTOCOLS.get(name)


def on_port(transport: str, port: int) -> Protocol | None:
    """The protocol whose well-known ``transport`` (``"udp"``/``"tcp"``) port this is."""
    return _PORTS.get((transport, port))


def by_word(word: str) -> Protocol | None:
    """The protocol a filter word means (``"websocket"`` → WebSocket), or None."""
    return _WORDS.get(word.lower())


def filter_words() -> list[str]:
    """Every filter word, protocol by protocol in registration order."""
    return [word for p in _PROTOCOLS.values() for word in p.words]


def upgrades_of(name: str) -> list[Protocol]:
    """The protocols that take over connections of ``name`` (HTTP → WebSocket)."""
    return [p for p in _PROTOCOLS.values() if name in _names(p.upgrades_from)]


def _names(value: str | tuple[str, ...]) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) and value else tuple(value or ())


def data_protocol_on_port(port: int) -> str | None:
    """The data protocol a server opens its data connections from this port for (20 →
    FTP-DATA), or None."""
    return _DATA_PORTS.get(port)


# The protocols below the applications, recognised by their headers in describe().
ARP = register(Protocol("ARP", "#7f7f7f", tshark="ARP"))
RARP = register(Protocol("RARP", "#8c564b", tshark="RARP"))
ICMP = register(Protocol("ICMP", "#ff7f0e", tshark="ICMP"))
UDP = register(Protocol("UDP", "#2ca02c"))
TCP = register(Protocol("TCP", "#1f77b4"))
STP = register(Protocol("STP", "#bc80bd", tshark="STP"))
ETHERNET = register(Protocol("Ethernet"))
IPV4 = register(Protocol("IPv4"))
