"""What a resolver may believe of an answer: the records in the bailiwick of the server
it asked (RFC 2181 §5.4.1, RFC 5452 §6, Unbound's ``scrub_message``).

A server is asked because it serves a zone — the delegation the resolver followed to
it (``zone``). It speaks with authority only for names at or below that zone; anything
else it says may be a lie told to poison the cache (the pre-1997 attack: the server for
``evil.test`` answers ``x.evil.test`` and adds ``www.bank.test A 6.6.6.6``). So of a
response only these are kept, each in the zone:

- answer: the chain from the name asked — its records of the type asked, or its CNAME
  and then the records of the CNAME's target, and so on; the chain stops at the first
  name outside the zone (the resolver asks for that one itself);
- authority: NS and SOA records whose owner is the name asked or above it (a referral
  toward it, or the zone's SOA for a negative answer);
- additional: addresses of the names those NS records name (glue).

Everything else is dropped; :func:`scrub` says how many records that was.
"""

from __future__ import annotations

import dns.message
import dns.name
import dns.rdatatype

_ADDRESSES = (dns.rdatatype.A, dns.rdatatype.AAAA)


def scrub(response: dns.message.Message, qname: dns.name.Name, qtype: int,
          zone: dns.name.Name) -> int:
    """Keep in ``response`` only what the server for ``zone`` may say about ``qname``;
    returns the number of records removed."""
    before = _count(response)

    answer, name, seen = [], qname, set()
    while name.is_subdomain(zone) and name not in seen:
        seen.add(name)
        mine = [r for r in response.answer if r.name == name and
                (r.rdtype == qtype or r.rdtype == dns.rdatatype.CNAME)]
        answer += mine
        cname = next((r for r in mine if r.rdtype == dns.rdatatype.CNAME), None)
        if cname is None or qtype == dns.rdatatype.CNAME:
            break
        name = cname[0].target
    response.answer = answer

    response.authority = [r for r in response.authority
                          if r.rdtype in (dns.rdatatype.NS, dns.rdatatype.SOA)
                          and r.name.is_subdomain(zone) and qname.is_subdomain(r.name)]
    targets = {rd.target for r in response.authority if r.rdtype == dns.rdatatype.NS for rd in r}
    response.additional = [r for r in response.additional
                           if r.rdtype in _ADDRESSES and r.name in targets
                           and r.name.is_subdomain(zone)]
    return before - _count(response)


def _count(response: dns.message.Message) -> int:
    return sum(len(r) for section in (response.answer, response.authority, response.additional)
               for r in section)
