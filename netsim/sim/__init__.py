"""The simulated world: the only package that imports SimPy.

A :class:`Network` owns the SimPy environment, the one seeded random generator and
the trace. Nodes (:class:`Host`, :class:`Router`, :class:`Switch`) own interfaces;
a :class:`Link` joins two interfaces with two :class:`Channel` directions that carry
serialization, propagation, queueing and loss (README design principle 6).
"""

from netsim.sim.driver import EngineDriver
from netsim.sim.interface import Interface
from netsim.sim.ipnode import Host, IpNode, Router
from netsim.sim.link import Channel, Link
from netsim.sim.network import Network
from netsim.sim.node import Node
from netsim.sim.sockets import UdpSocket
from netsim.sim.switch import Switch

__all__ = ["Channel", "EngineDriver", "Host", "Interface", "IpNode", "Link", "Network", "Node",
           "Router", "Switch", "UdpSocket"]
