"""Building networks: helpers that hide the wiring, addressing and static routes.

ns-3's ``PointToPointHelper`` and ``examples/tutorial/first.cc`` set the bar: a
topology in a few lines, the helper returning the containers the caller needs::

    net, (alice, r1, bob) = line(["alice", "r1", "bob"], rate="100Mbps", delay="2ms")
"""

from netsim.topo.addressing import assign_addresses, l2_segments
from netsim.topo.graph import from_graph, to_graph
from netsim.topo.helpers import finalize, lan, line
from netsim.topo.routes import compute_routes

__all__ = ["assign_addresses", "compute_routes", "finalize", "from_graph", "l2_segments", "lan",
           "line", "to_graph"]
