"""A sans-I/O TCP (RFC 9293) with RFC 6298 timers and RFC 5681/6582 congestion control.

:class:`TcpConnection` is one end of one connection: segments and ``now`` in,
segments and events out, one timer deadline. The simulator's TCP stack
(:mod:`netsim.sim.tcp`) demultiplexes segments to connections and turns their
segments into frames.
"""

from netsim.proto.tcp.congestion import NewReno
from netsim.proto.tcp.connection import TcpConnection, TcpError
from netsim.proto.tcp.events import (Closed, Connected, DataReceived, Metrics, PeerClosed,
                                     Retransmission, StateChanged)
from netsim.proto.tcp.segment import ACK, FIN, PSH, RST, SYN, Segment
from netsim.proto.tcp.state import State, TRANSITIONS

__all__ = ["ACK", "Closed", "Connected", "DataReceived", "FIN", "Metrics", "NewReno", "PSH",
           "PeerClosed", "RST", "Retransmission", "SYN", "Segment", "State", "StateChanged",
           "TRANSITIONS", "TcpConnection", "TcpError"]
