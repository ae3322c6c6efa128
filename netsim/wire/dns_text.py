"""DNS messages in one line, as a textbook draws them: ``DNS query MX 163.com [RD=1]``,
``DNS referral: com NS a.gtld-servers.net [RA=0]``, ``DNS response A 10.3.0.25 [AA RA=1]``.

The flags in brackets are the ones that carry the lesson (RFC 1035 §4.1.1): RD on a
query — the one bit that tells a recursive question from an iterative one —, and on a
response AA (an authoritative answer, not a cache's) and RA (the server offers recursion)."""

from __future__ import annotations


def dns_line(payload: bytes) -> str | None:
    """The line for a DNS message, or None when the bytes are not one."""
    # dnspython is loaded with the first DNS frame, not by every run that has none.
    import dns.exception
    import dns.flags
    import dns.message
    import dns.rcode
    import dns.rdatatype
    try:
        m = dns.message.from_wire(payload)
    except (dns.exception.DNSException, ValueError):     # not DNS: no label
        return None
    line = _line(m)
    if m.flags & dns.flags.QR:
        flags = ("AA " if m.flags & dns.flags.AA else "") + f"RA={int(bool(m.flags & dns.flags.RA))}"
    else:
        flags = f"RD={int(bool(m.flags & dns.flags.RD))}"
    return f"{line} [{flags}]" if m.question else line


def _line(m) -> str:
    import dns.flags
    import dns.rcode
    import dns.rdatatype
    if not m.question:
        return "DNS message without a question"
    q = m.question[0]
    asked = f"{dns.rdatatype.to_text(q.rdtype)} {q.name.to_text(omit_final_dot=True) or '.'}"
    if not m.flags & dns.flags.QR:
        return f"DNS query {asked}"
    if m.flags & dns.flags.TC:
        return f"DNS response {asked} (truncated)"
    rcode = m.rcode()
    if rcode != dns.rcode.NOERROR:
        return f"DNS response {dns.rcode.to_text(rcode)} ({asked})"
    if m.answer:
        parts = []
        for rrset in m.answer:
            values = sorted(rd.to_text() for rd in rrset)
            shown = values[0] + (f" +{len(values) - 1}" if len(values) > 1 else "")
            parts.append(f"{dns.rdatatype.to_text(rrset.rdtype)} {shown}")
        return "DNS response " + ", ".join(parts)
    ns = next((r for r in m.authority if r.rdtype == dns.rdatatype.NS), None)
    if ns is not None and not m.flags & dns.flags.AA:
        target = sorted(rd.target.to_text(omit_final_dot=True) for rd in ns)[0]
        return f"DNS referral: {ns.name.to_text(omit_final_dot=True) or '.'} NS {target}"
    return f"DNS response no {dns.rdatatype.to_text(q.rdtype)} ({asked})"
