"""A resolver's cache (RFC 1034 §5.3.3, RFC 2308 §5, RFC 8020): records and negative
answers, each for its TTL, in a bounded space that forgets the least recently used.

Records are kept by (name, type) as the RRset that came in, with the moment its TTL
runs out; what is read back carries the TTL that remains, as a resolver reports it. A
negative answer is kept for the lesser of the SOA's TTL and its MINIMUM field (RFC
2308 §5): NODATA for its (name, type); NXDOMAIN for the name — every type of it, and
every name below it, since nothing exists under a name that does not exist (RFC 8020
§2, Unbound's ``harden-below-nxdomain``).

The cache holds at most ``size`` entries; a new one past that pushes out the one used
longest ago (Unbound's rrset and message caches are LRU too), and an entry whose TTL
has run out is dropped when it is next looked at. A flood of answers for random names
— what a cache-poisoning attacker or a water-torture attack sends — therefore costs a
bounded memory, not all of it.
"""

from __future__ import annotations

from collections import OrderedDict

import dns.name
import dns.rcode
import dns.rdatatype
import dns.rrset

#: Entries a cache holds unless told otherwise (Unbound's default rrset-cache-size of
#: 4 MB holds about this many small RRsets).
DEFAULT_SIZE = 10_000

_NXDOMAIN = -1          # the "type" an NXDOMAIN is kept under: every type of the name


class Cache:
    def __init__(self, size: int = DEFAULT_SIZE) -> None:
        if size < 1:
            raise ValueError("a cache holds at least one entry")
        self.size = size
        self.evicted = 0
        # (name, type, positive?) → (RRset or (rcode, SOA), expires)
        self._entries: OrderedDict = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    # -- records --------------------------------------------------------------------------

    def put(self, rrset: dns.rrset.RRset, now: float) -> None:
        self._store((rrset.name, rrset.rdtype, True), rrset, now + rrset.ttl)

    def get(self, name: dns.name.Name, rdtype: int, now: float) -> dns.rrset.RRset | None:
        found = self._fetch((name, rdtype, True), now)
        if found is None:
            return None
        rrset, expires = found
        aged = dns.rrset.RRset(rrset.name, rrset.rdclass, rrset.rdtype)
        aged.update(rrset)
        aged.ttl = max(0, int(expires - now))
        return aged

    # -- negative answers ---------------------------------------------------------------------

    def put_negative(self, name: dns.name.Name, rdtype: int, rcode: int,
                     soa: dns.rrset.RRset | None, now: float) -> None:
        """NXDOMAIN (for every type of ``name``) or NODATA (for ``rdtype``); without an
        SOA there is nothing to say how long, and nothing is kept (RFC 2308 §5)."""
        if soa is None:
            return
        ttl = min(soa.ttl, soa[0].minimum)
        kind = _NXDOMAIN if rcode == dns.rcode.NXDOMAIN else rdtype
        self._store((name, kind, False), (rcode, soa), now + ttl)

    def negative(self, name: dns.name.Name, rdtype: int, now: float):
        """``(rcode, SOA with the TTL left)`` for a cached negative answer that covers
        (name, type) — NODATA for it, or NXDOMAIN for the name or one above it — or None."""
        found = self._fetch((name, rdtype, False), now)
        ancestor = name
        while found is None:
            found = self._fetch((ancestor, _NXDOMAIN, False), now)
            if found is not None or ancestor == dns.name.root:
                break
            ancestor = ancestor.parent()
        if found is None:
            return None
        (rcode, soa), expires = found
        aged = dns.rrset.RRset(soa.name, soa.rdclass, soa.rdtype)
        aged.update(soa)
        aged.ttl = max(0, int(expires - now))
        return rcode, aged

    # -- for summaries ------------------------------------------------------------------------

    def entries(self, now: float) -> list[tuple[str, str, int]]:
        """(name, type, seconds left) of the records held (negative answers as
        ``NXDOMAIN``/``NODATA <type>``)."""
        out = []
        for (name, kind, positive), (_value, expires) in self._entries.items():
            if expires <= now:
                continue
            what = dns.rdatatype.to_text(kind) if positive else \
                "NXDOMAIN" if kind == _NXDOMAIN else f"NODATA {dns.rdatatype.to_text(kind)}"
            out.append((name.to_text(), what, int(expires - now)))
        return sorted(out)

    # -- the bound ----------------------------------------------------------------------------

    def _store(self, key, value, expires: float) -> None:
        entries = self._entries
        entries[key] = (value, expires)
        entries.move_to_end(key)
        while len(entries) > self.size:
            entries.popitem(last=False)
            self.evicted += 1

    def _fetch(self, key, now: float):
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry[1] <= now:
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return entry
