"""Public suffixes — names under which anyone may register a domain (``com``, ``co.uk``,
``github.io``) — as a browser's cookie jar needs them (RFC 6265 §5.3 step 5), with no
I/O: a small list built in, never downloaded at run time.

Browsers use the whole Public Suffix List (publicsuffix.org, some 10,000 rules); this is
a small part of it, enough that a cookie for ``Domain=co.uk`` is refused the way Chrome,
Firefox and curl (with libpsl) refuse it:

- every single label is a public suffix — the list's implicit ``*`` rule, which makes
  any top-level label one, listed or not (``com``, ``uk``, ``test``, ``lan``); so
  ``Domain=com`` is never a cookie's domain;
- the multi-label suffixes in :data:`MULTI_LABEL`: second-level registries of common
  country codes (``co.uk``, ``com.cn``, ``com.au``, ``co.jp``, …) and the best-known
  hosting platforms where each customer has a subdomain (``github.io``,
  ``herokuapp.com``, ``blogspot.com``, …, from the list's private section).

A name not listed (``example.co.uk`` or ``bank.test``) is not a public suffix. The
list's wildcard (``*.ck``) and exception (``!www.ck``) rules are not among the ones kept.
"""

from __future__ import annotations

#: Multi-label public suffixes kept from the Public Suffix List (ICANN and private
#: sections); every single label is one by the list's default rule.
MULTI_LABEL = frozenset("""
    co.uk org.uk me.uk ltd.uk plc.uk net.uk sch.uk ac.uk gov.uk nhs.uk police.uk
    com.au net.au org.au edu.au gov.au asn.au id.au
    co.nz net.nz org.nz govt.nz ac.nz school.nz
    co.jp ne.jp or.jp ac.jp ad.jp ed.jp go.jp gr.jp lg.jp
    com.cn net.cn org.cn gov.cn edu.cn ac.cn
    com.hk net.hk org.hk edu.hk gov.hk com.tw net.tw org.tw edu.tw gov.tw
    co.kr or.kr ne.kr ac.kr go.kr re.kr com.sg net.sg org.sg edu.sg gov.sg
    co.in net.in org.in firm.in gen.in ind.in ac.in edu.in gov.in res.in
    com.br net.br org.br gov.br edu.br com.ar net.ar org.ar gob.ar com.mx net.mx org.mx
    gob.mx edu.mx co.za org.za net.za gov.za ac.za web.za co.il org.il net.il ac.il gov.il
    com.tr net.tr org.tr gov.tr edu.tr com.ua net.ua org.ua gov.ua com.pl net.pl org.pl
    co.id or.id ac.id go.id com.my net.my org.my gov.my edu.my com.ph net.ph org.ph
    com.vn net.vn org.vn gov.vn edu.vn com.eg com.sa com.pk com.ng co.ke
    github.io gitlab.io githubusercontent.com herokuapp.com appspot.com blogspot.com
    cloudfront.net azurewebsites.net cloudapp.net netlify.app vercel.app pages.dev
    workers.dev firebaseapp.com web.app fly.dev onrender.com s3.amazonaws.com
    elasticbeanstalk.com readthedocs.io
""".split())


def is_public_suffix(domain: str) -> bool:
    """Whether ``domain`` (lower case, no leading or trailing dot) is a public suffix."""
    return "." not in domain or domain in MULTI_LABEL
