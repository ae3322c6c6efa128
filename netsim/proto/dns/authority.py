"""An authoritative name server's answers (RFC 1034 §4.3.2, RFC 1035 §4.1, RFC 2308,
RFC 4592, RFC 6891).

:class:`Authority` holds zones written in the master-file format (RFC 1035 §5) and
answers a query message with a response message: the records asked for with AA set;
a CNAME and, inside the zone, what it points to; a referral — the child zone's NS
records in the authority section and their addresses ("glue") in the additional
section, AA clear — for a name below a delegation; a wildcard's records under the
name asked (RFC 4592 §3.3.1: ``*.163.com`` answers for any name below ``163.com``
that does not exist); NXDOMAIN, or an empty answer (NODATA, also for an empty
non-terminal: a name with no records but names below it, RFC 8020 §2), with the
zone's SOA for negative caching, its TTL the lesser of the SOA's own and its MINIMUM
(RFC 2308 §3); REFUSED for a name in no zone it serves. A query with EDNS gets an
OPT back and an answer as big as it said it can take (:mod:`netsim.proto.dns.edns`).

Wire format, names and record data are dnspython's; the logic is ours.
"""

from __future__ import annotations

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import dns.zone

from netsim.proto.dns.edns import UDP_LIMIT, answer_edns, to_wire
from netsim.proto.dns.queries import format_error, read_query

__all__ = ["UDP_LIMIT", "Authority", "ZoneError", "load_zone", "to_wire"]


class ZoneError(ValueError):
    """A zone's records do not parse or do not make a zone (no SOA, no NS at the apex)."""


def load_zone(origin: str, records: list[str] | str, default_ttl: int = 3600) -> dns.zone.Zone:
    """A zone from master-file lines (``"@ MX 10 mail"``, ``"mail A 10.0.3.25"``); an SOA
    and apex NS are required, as a real server requires them."""
    text = records if isinstance(records, str) else "\n".join(records)
    try:
        zone = dns.zone.from_text(f"$TTL {default_ttl}\n{text}\n", origin=origin, relativize=False,
                                  check_origin=False)
    except dns.exception.DNSException as exc:
        raise ZoneError(f"zone {origin}: {exc}") from None
    apex = zone.get_node(zone.origin)
    if apex is None or apex.get_rdataset(dns.rdataclass.IN, dns.rdatatype.SOA) is None:
        raise ZoneError(f"zone {origin}: no SOA record at its apex ('@ SOA ns admin 1 7200 900 "
                        "1209600 300')")
    if apex.get_rdataset(dns.rdataclass.IN, dns.rdatatype.NS) is None:
        raise ZoneError(f"zone {origin}: no NS record at its apex ('@ NS ns1')")
    return zone


class Authority:
    """The zones one server is authoritative for."""

    def __init__(self, zones: list[dns.zone.Zone]) -> None:
        self.zones = sorted(zones, key=lambda z: len(z.origin), reverse=True)
        self.answered = 0
        self._names: dict[int, set] = {}      # per zone: every name that exists in it

    def answer(self, wire: bytes, *, udp: bool = True) -> bytes | None:
        """A query's bytes in, the answer's bytes out (None: a message a server drops)."""
        query = read_query(wire)
        if query is None:
            return format_error(wire)
        return to_wire(self.respond(query, udp=udp), udp=udp)

    def zone_for(self, name: dns.name.Name) -> dns.zone.Zone | None:
        """The closest enclosing zone this server has (the longest origin)."""
        for zone in self.zones:
            if name.is_subdomain(zone.origin):
                return zone
        return None

    def respond(self, query: dns.message.Message, *, udp: bool = True) -> dns.message.Message:
        self.answered += 1
        response = dns.message.make_response(query)
        response.flags &= ~dns.flags.RA
        answer_edns(query, response)
        if response.rcode() == dns.rcode.BADVERS:
            return response
        if len(query.question) != 1 or query.opcode() != dns.opcode.QUERY:
            response.set_rcode(dns.rcode.FORMERR if len(query.question) != 1 else dns.rcode.NOTIMP)
            return response
        question = query.question[0]
        name, rdtype = question.name, question.rdtype
        zone = self.zone_for(name)
        if zone is None:
            response.set_rcode(dns.rcode.REFUSED)
            return response
        self._answer(response, zone, name, rdtype, set())
        return response

    def _answer(self, response, zone, name, rdtype, seen: set) -> None:
        # Below a delegation (a non-apex node with NS on the way down)? Then refer.
        cut = _delegation(zone, name)
        if cut is not None:
            ns = zone.get_rdataset(cut, dns.rdatatype.NS)
            response.authority.append(_rrset(cut, ns))
            for target in sorted({rd.target for rd in ns}):
                for glue_type in (dns.rdatatype.A,):
                    glue = zone.get_rdataset(target, glue_type) if target.is_subdomain(zone.origin) else None
                    if glue is not None:
                        response.additional.append(_rrset(target, glue))
            return
        response.flags |= dns.flags.AA
        node = zone.get_node(name)
        if node is None and not self._exists(zone, name):
            node = zone.get_node(self._wildcard(zone, name))     # RFC 4592 §3.3.1
            if node is None:
                if not response.answer:
                    response.set_rcode(dns.rcode.NXDOMAIN)
                response.authority.append(_soa(zone))
                return
        if node is None:                                         # an empty non-terminal
            response.authority.append(_soa(zone))
            return
        found = node.get_rdataset(dns.rdataclass.IN, rdtype)
        if found is not None:
            response.answer.append(_rrset(name, found))
            if rdtype in (dns.rdatatype.MX, dns.rdatatype.NS):
                self._additional(response, zone, found)
            return
        cname = node.get_rdataset(dns.rdataclass.IN, dns.rdatatype.CNAME)
        if cname is not None and name not in seen:
            seen.add(name)
            response.answer.append(_rrset(name, cname))
            target = cname[0].target
            if target.is_subdomain(zone.origin):
                self._answer(response, zone, target, rdtype, seen)
            return
        response.authority.append(_soa(zone))          # NODATA (RFC 2308 §2.2)

    def _exists(self, zone, name) -> bool:
        """Whether ``name`` exists in ``zone``: it has records, or a name below it has
        (an empty non-terminal, RFC 4592 §2.2.2)."""
        names = self._names.get(id(zone))
        if names is None:
            names = set()
            for owner in zone.nodes:
                while owner not in names and owner.is_subdomain(zone.origin):
                    names.add(owner)
                    if owner == zone.origin:
                        break
                    owner = owner.parent()
            self._names[id(zone)] = names
        return name in names

    def _wildcard(self, zone, name) -> dns.name.Name:
        """The source of synthesis for a name that does not exist (RFC 4592 §3.3.1): the
        ``*`` label under its closest encloser — the longest ancestor that exists."""
        encloser = name.parent()
        while encloser != zone.origin and not self._exists(zone, encloser):
            encloser = encloser.parent()
        return dns.name.Name((b"*",) + encloser.labels)

    @staticmethod
    def _additional(response, zone, rdataset) -> None:
        names = [rd.exchange if rdataset.rdtype == dns.rdatatype.MX else rd.target for rd in rdataset]
        for target in names:
            if target.is_subdomain(zone.origin):
                a = zone.get_rdataset(target, dns.rdatatype.A)
                if a is not None:
                    response.additional.append(_rrset(target, a))


def _delegation(zone, name):
    """The highest node strictly below the apex and at or above ``name`` that has NS."""
    labels = name.relativize(zone.origin).labels
    node_name = zone.origin
    for label in reversed(labels):
        node_name = dns.name.Name((label,) + node_name.labels)
        if zone.get_rdataset(node_name, dns.rdatatype.NS) is not None:
            return node_name
    return None


def _rrset(name, rdataset) -> dns.rrset.RRset:
    rrset = dns.rrset.RRset(name, rdataset.rdclass, rdataset.rdtype)
    rrset.update(rdataset)
    return rrset


def _soa(zone) -> dns.rrset.RRset:
    """The SOA that goes with a negative answer, its TTL the lesser of its own and its
    MINIMUM field: how long the answer may be cached (RFC 2308 §3)."""
    soa = zone.get_rdataset(zone.origin, dns.rdatatype.SOA)
    rrset = _rrset(zone.origin, soa)
    rrset.ttl = min(soa.ttl, soa[0].minimum)
    return rrset
