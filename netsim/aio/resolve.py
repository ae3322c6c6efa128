"""``getaddrinfo`` and ``getnameinfo`` on a simulated host, as glibc answers them.

A name is looked up as every netsim app looks one up (:func:`netsim.apps.names.lookup`):
the hosts table first — ``localhost``, the scenario's node names, dotted quads — then
the host's stub resolver over DNS, in simulated time. Errors are glibc's
:class:`socket.gaierror` with its codes and words ("Name or service not known",
"Temporary failure in name resolution"). IPv6 is not modelled: asking for AF_INET6
gets EAI_FAMILY, and AF_UNSPEC gets IPv4 only.
"""

from __future__ import annotations

import socket

from netsim.apps.base import host_names
from netsim.apps.names import hosts_entry, lookup
from netsim.wire.addr import int_to_ip, ip_to_int

#: /etc/services for the names libraries pass as ports (getservbyname reads a file on
#: the machine running netsim, which a simulated host does not have).
SERVICES = {"ftp-data": 20, "ftp": 21, "ssh": 22, "telnet": 23, "smtp": 25, "domain": 53,
            "http": 80, "pop3": 110, "imap": 143, "imap2": 143, "https": 443, "smtps": 465,
            "submission": 587, "submissions": 465, "imaps": 993, "pop3s": 995}
_BY_PORT = {port: name for name, port in reversed(SERVICES.items())}

#: What the stub resolver's errors are as getaddrinfo's.
_GAI = {"Name or service not known": socket.EAI_NONAME,
        "Temporary failure in name resolution": socket.EAI_AGAIN,
        "No address associated with hostname": getattr(socket, "EAI_NODATA", socket.EAI_NONAME)}

#: The socket types glibc lists for ``type=0``, each with its protocol.
_TYPES = ((socket.SOCK_STREAM, socket.IPPROTO_TCP), (socket.SOCK_DGRAM, socket.IPPROTO_UDP),
          (socket.SOCK_RAW, 0))


def port_number(port) -> int:
    if port is None:
        return 0
    if isinstance(port, bytes):
        port = port.decode("ascii")
    if isinstance(port, int):
        return port
    if port.isdigit():
        return int(port)
    if port in SERVICES:
        return SERVICES[port]
    raise socket.gaierror(socket.EAI_SERVICE, "Servname not supported for ai_socktype")


def local_entry(node, name: str) -> int | None:
    """The address the host's own tables give ``name`` (None: ask DNS)."""
    if name == "localhost" or name == "localhost.localdomain":
        return 0x7F000001
    return hosts_entry(node.network, name)


async def getaddrinfo(loop, host, port, family=0, type=0, proto=0, flags=0) -> list:
    if family not in (0, socket.AF_INET):
        raise socket.gaierror(socket.EAI_FAMILY, "ai_family not supported")
    if isinstance(host, bytes):
        host = host.decode("idna")
    number = port_number(port)
    node = loop.node
    if host is None or host == "":
        addresses = ["0.0.0.0" if flags & socket.AI_PASSIVE else "127.0.0.1"]
    elif ":" in host:
        raise socket.gaierror(socket.EAI_FAMILY, "Address family for hostname not supported")
    else:
        address = local_entry(node, host)
        if address is not None:
            addresses = [int_to_ip(address)]
        elif flags & socket.AI_NUMERICHOST:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        else:
            answer = await _wait(loop, lookup(node, host.rstrip(".")))
            if answer.error:
                raise socket.gaierror(_GAI.get(answer.error, socket.EAI_FAIL), answer.error)
            addresses = list(answer.addresses)
    kinds = [(t, p) for t, p in _TYPES if (not type or t == type) and (not proto or p == proto)]
    if not kinds:
        raise socket.gaierror(socket.EAI_SOCKTYPE, "ai_socktype not supported")
    canon = host if flags & socket.AI_CANONNAME and host else ""
    entries = [(ip, kind) for ip in addresses for kind in kinds]
    return [(socket.AF_INET, t, p, canon if i == 0 else "", (ip, number))
            for i, (ip, (t, p)) in enumerate(entries)]


def getnameinfo(loop, sockaddr, flags=0) -> tuple[str, str]:
    ip, port = sockaddr[:2]
    host = ip
    if not flags & socket.NI_NUMERICHOST:
        names = host_names(loop.node.network)
        try:
            host = names.get(ip_to_int(ip), ip)
        except ValueError:
            pass
        if ip == "127.0.0.1":
            host = "localhost"
    service = str(port) if flags & socket.NI_NUMERICSERV else _BY_PORT.get(port, str(port))
    return host, service


def _wait(loop, event):
    """An asyncio future for a SimPy event's value (set from a loop handle)."""
    future = loop.create_future()

    def done(ev) -> None:
        if not future.done():
            loop.call_soon(_settle, future, ev)

    if event.callbacks is None:             # already processed
        loop.call_soon(_settle, future, event)
    else:
        event.callbacks.append(done)
    return future


def _settle(future, event) -> None:
    if future.done():
        return
    if event.ok:
        future.set_result(event.value)
    else:
        future.set_exception(event.value)
