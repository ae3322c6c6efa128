"""Sans-I/O protocol engines: messages and ``now`` in, outputs queued, timers asked for.

No module here imports SimPy, the filesystem or anything of ``netsim.sim``. An
engine exposes ``outputs()`` (drain what it wants done), ``get_timer()`` (the next
deadline, or ``None``) and ``handle_timer(now)``; :class:`netsim.sim.driver.EngineDriver`
is the one place where the simulated clock meets them (README design principles 1–2).
"""

# Every application protocol's descriptor (netsim.wire.registry), one module beside each
# engine, registered here: whoever imports an engine, or netsim.proto, sees them all. They
# import only netsim.wire — reading a saved trace never loads an engine (or h11, dnspython)
# for a protocol's name and colour. Their order is the order legends and
# `netsim diagram --help` list protocols in.
from netsim.proto import dns_descriptor  # noqa: E402,F401
from netsim.proto import dhcp_descriptor  # noqa: E402,F401
from netsim.proto import mail_descriptor  # noqa: E402,F401
from netsim.proto import ftp_descriptor  # noqa: E402,F401
from netsim.proto import http_descriptor  # noqa: E402,F401
from netsim.proto import websocket_descriptor  # noqa: E402,F401
from netsim.proto import http2_descriptor  # noqa: E402,F401
from netsim.proto import tls_descriptor  # noqa: E402,F401
from netsim.proto import quic_descriptor  # noqa: E402,F401
