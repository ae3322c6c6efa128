"""The browser's engines alone: the cache's freshness (RFC 9111), the cookie jar
(RFC 6265), redirect method rules (RFC 9110 §15.4), reading a page for its objects, and
what a hostile server's numbers, dates and references come to."""

import pytest

from netsim.proto.http.cache import HttpCache
from netsim.proto.http.cookies import CookieJar
from netsim.proto.http.dates import parse_http_date
from netsim.proto.http.page import page_text, references
from netsim.proto.http.redirects import redirected
from netsim.proto.http.site import Site, http_date, resource_from_spec
from netsim.proto.http.url import UrlError, host_problem, parse_url, resolve_reference
from netsim.units import parse_size, parse_time


def stored(cache, headers, *, at=0.0, url="http://h/x"):
    cache.store("GET", url, 200, "OK", headers, b"body", at, at)
    return url


def test_max_age_is_fresh_until_it_runs_out_then_stale_with_its_validators():
    cache = HttpCache()
    url = stored(cache, [("Date", http_date(0)), ("Cache-Control", "max-age=10"),
                         ("ETag", '"abc"'), ("Last-Modified", http_date(0))])
    assert cache.lookup("GET", url, 9.9).state == "fresh"
    stale = cache.lookup("GET", url, 10.0)
    assert stale.state == "stale"
    assert stale.conditional == [("If-None-Match", '"abc"'), ("If-Modified-Since", http_date(0))]
    cache.refresh(url, [("Date", http_date(20))], 20.0, 20.0)
    assert cache.lookup("GET", url, 25.0).state == "fresh"         # a 304 starts it again


def test_expires_and_the_heuristic_and_max_age_winning_over_expires():
    cache = HttpCache()
    url = stored(cache, [("Date", http_date(100)), ("Expires", http_date(130))], at=100)
    assert cache.lookup("GET", url, 129).state == "fresh"
    assert cache.lookup("GET", url, 130).state == "stale"
    url = stored(cache, [("Date", http_date(100)), ("Last-Modified", http_date(0))], at=100,
                 url="http://h/h")
    lookup = cache.lookup("GET", url, 109)
    assert lookup.state == "fresh" and "heuristic 10 s" in lookup.why     # 10 % of 100 s
    assert cache.lookup("GET", url, 110).state == "stale"
    url = stored(cache, [("Date", http_date(0)), ("Expires", http_date(1000)),
                         ("Cache-Control", "max-age=5")], url="http://h/m")
    assert cache.lookup("GET", url, 6).state == "stale"


def test_no_cache_revalidates_every_time_no_store_is_never_kept_post_is_never_served():
    cache = HttpCache()
    url = stored(cache, [("Date", http_date(0)), ("Cache-Control", "no-cache, max-age=600")])
    assert cache.lookup("GET", url, 1).state == "stale"
    assert not cache.store("GET", "http://h/s", 200, "OK", [("Cache-Control", "no-store")], b"", 0, 0)
    assert cache.lookup("GET", "http://h/s", 1).state == "miss"
    assert not cache.store("POST", "http://h/p", 200, "OK", [("Cache-Control", "max-age=60")], b"", 0, 0)
    assert cache.lookup("POST", url, 1).state == "miss"
    assert not cache.store("GET", "http://h/e", 500, "x", [("Cache-Control", "max-age=60")], b"", 0, 0)


def test_cookie_jar_paths_domains_expiry_and_order():
    jar = CookieJar()
    jar.receive("shop.example.com", "/login", "session=abc; Path=/; HttpOnly", 0)
    jar.receive("shop.example.com", "/cart/add", "cart=1", 0)               # default path /cart
    jar.receive("shop.example.com", "/", "wide=1; Domain=example.com; Max-Age=60", 0)
    assert jar.receive("shop.example.com", "/", "evil=1; Domain=other.com", 0) is None
    assert jar.header("shop.example.com", "/cart/view", 1) == "cart=1; session=abc; wide=1"
    assert jar.header("shop.example.com", "/cartoon", 1) == "session=abc; wide=1"
    assert jar.header("www.example.com", "/", 1) == "wide=1"
    assert jar.header("www.example.com", "/", 61) is None                   # expired
    jar.receive("shop.example.com", "/", "session=gone; Path=/; Max-Age=0", 2)
    assert jar.header("shop.example.com", "/", 3) is None


@pytest.mark.parametrize("status,method,expected", [
    (301, "POST", "GET"), (302, "POST", "GET"), (303, "POST", "GET"), (303, "PUT", "GET"),
    (307, "POST", "POST"), (308, "POST", "POST"), (301, "GET", "GET"), (303, "HEAD", "HEAD")])
def test_redirects_change_the_method_as_browsers_do(status, method, expected):
    new_method, body = redirected(status, method, b"a=1")
    assert new_method == expected
    assert body == (b"a=1" if expected == method else b"")       # a changed method drops the body


def test_a_page_names_its_objects_in_html_that_a_browser_reads():
    spec = {"body": "3KiB", "embeds": ["/s.css", "/a.js", "/i.png"]}
    site = Site("h", {"/p": resource_from_spec("/p", spec, parse_time, parse_size)})
    answer = site.respond("GET", "/p", {}, 0.0)
    assert references(answer.body) == ["/s.css", "/a.js", "/i.png"]
    assert abs(len(answer.body) - 3072) < 8
    assert page_text(b"<html><head><title>t</title><script>x()</script></head>"
                     b"<body><p>Hello   there</p></body></html>") == "Hello there"


def test_png_bodies_are_real_pngs_of_the_size_asked():
    site = Site("h", {"/i.png": resource_from_spec("/i.png", {"body": "5KiB", "type": "image/png"},
                                                   parse_time, parse_size)})
    body = site.respond("GET", "/i.png", {}, 0.0).body
    assert body.startswith(b"\x89PNG\r\n\x1a\n") and len(body) == 5120 and body.endswith(b"IEND\xaeB`\x82")


def test_a_login_sets_a_session_cookie_that_the_account_page_needs():
    specs = {"/login": {"session": "login", "methods": ["POST"], "redirect": 303, "to": "/account"},
             "/account": {"session": "required", "body": "hi"}}
    site = Site("h", {p: resource_from_spec(p, s, parse_time, parse_size) for p, s in specs.items()})
    assert site.respond("GET", "/account", {}, 0).status == 403
    login = site.respond("POST", "/login", {}, 0, b"user=a")
    assert login.status == 303
    cookie = dict(login.headers)["Set-Cookie"]
    jar = CookieJar()
    jar.receive("h", "/login", cookie, 0)
    assert site.respond("GET", "/account", {"cookie": jar.header("h", "/account", 1)}, 1).status == 200
    assert site.respond("GET", "/account", {"cookie": "session=forged"}, 1).status == 403


# -- what a hostile server's numbers and dates come to -------------------------------------

@pytest.mark.parametrize("max_age,expires", [
    ("9" * 400, 400 * 86400.0),             # issue 19: OverflowError adding it to a float
    ("9" * 5000, 400 * 86400.0),            # past int()'s 4,300 digits: no ValueError either
    ("60", 60.0),
    ("٣٠", None), ("+5", None), ("5s", None), ("", None), ("1e3", None),   # not 1*DIGIT: ignored
])
def test_a_cookies_max_age_is_ascii_digits_and_at_most_400_days(max_age, expires):
    jar = CookieJar()
    cookie = jar.receive("h", "/", f"a=b; Max-Age={max_age}", 0.0)
    assert cookie.expires == expires


def test_a_negative_max_age_deletes_and_a_cookie_expiry_is_a_cookie_date():
    jar = CookieJar()
    jar.receive("h", "/", "a=b", 0.0)
    assert jar.receive("h", "/", "a=b; Max-Age=-" + "9" * 400, 1.0) is None and not jar.cookies
    rfc850 = jar.receive("h", "/", "c=d; Expires=Wed, 09-Jun-2024 10:18:14 GMT", 0.0)
    assert rfc850.expires == parse_http_date("Sun, 09 Jun 2024 10:18:14 GMT")
    far = jar.receive("h", "/", "e=f; Expires=Fri, 31 Dec 9999 23:59:59 GMT", 0.0)
    assert far.expires == 400 * 86400.0                                 # capped
    for junk in ("Fri, 31 Dec 99999999999999999999 23:59:59 GMT", "Fri, ٣ Dec 2024 10:00:00 GMT",
                 "Fri, 31 Feb 2024 10:00:00 GMT", "tomorrow"):
        assert jar.receive("h", "/", f"g=h; Expires={junk}", 0.0).expires is None   # session


def test_a_cookie_with_a_control_character_or_too_long_is_ignored():
    jar = CookieJar()
    assert jar.receive("h", "/", "a=b\x01c", 0.0) is None
    assert jar.receive("h", "/", "a=" + "x" * 5000, 0.0) is None
    assert jar.receive("h", "/", "a=b\tc", 0.0) is not None               # HTAB is allowed


@pytest.mark.parametrize("max_age,state", [
    ("1e999", "stale"), ("inf", "stale"), ("nan", "stale"), ("٣٠٠", "stale"),
    ("9" * 400, "fresh"),                   # RFC 9111 §1.2.2: capped at 2³¹, not an overflow
])
def test_a_caches_max_age_is_delta_seconds(max_age, state):
    cache = HttpCache()
    url = stored(cache, [("Date", http_date(0)), ("Cache-Control", f"max-age={max_age}")])
    lookup = cache.lookup("GET", url, 100.0)
    assert lookup.state == state and "nan" not in lookup.why and "inf" not in lookup.why


def test_an_age_or_a_date_that_is_no_number_or_date_is_ignored():
    cache = HttpCache()
    url = stored(cache, [("Date", "Fri, 31 Dec 99999999999999 23:59:59 GMT"), ("Age", "1e999"),
                         ("Expires", "Fri, 31 Dec 9999 23:59:59 GMT")])
    # No valid Date: the Expires counts from when the response came (RFC 9110 §6.6.1), as
    # Chrome counts it; the Age that is no number counts as none.
    lookup = cache.lookup("GET", url, 1.0)
    assert lookup.state == "fresh" and lookup.why.startswith("age 1 s < Expires")


def test_http_dates_in_the_three_forms_and_what_is_not_one():
    imf = parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT")
    assert imf == parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT") == \
        parse_http_date("Sun Nov  6 08:49:37 1994")
    for junk in ("Sun, 06 Nov 1994 08:49:37 +0100", "Sun, ٠٦ Nov 1994 08:49:37 GMT",
                 "Sun, 31 Feb 1994 08:49:37 GMT", "0", ""):
        assert parse_http_date(junk) is None


@pytest.mark.parametrize("reference,url", [
    ("/new", "http://web/new"), ("c", "http://web/a/c"),
    (" /x\n", "http://web/x"), ("/caf\xe9 menu?q=a b#top", "http://web/caf%C3%A9%20menu?q=a%20b"),
    ("http://B\xfccher.example/", "http://xn--bcher-kva.example/"),
    ("HTTP://Other/x", "http://other/x"), ("mailto:x@y", "mailto:x@y"),
])
def test_a_reference_is_resolved_as_the_url_standard_does(reference, url):
    assert resolve_reference("http://web/a/b", reference) == url


def test_what_is_no_url_raises_url_error():
    with pytest.raises(UrlError, match="Invalid IPv6 URL"):
        resolve_reference("http://web/", "http://[bad/")
    with pytest.raises(UrlError, match="has no host"):
        parse_url("http://web:\u0668\u0660/")                      # '٨٠': isdigit() says yes
    assert host_problem("a" * 70 + ".example") == "a label of 70 characters (at most 63)"
    assert host_problem("a..b") and host_problem("web") is None


# -- RFC 9111 as real caches read it: lists, Vary, repeated values ------------------------

def test_cache_control_on_two_lines_is_one_list_and_no_cache_is_obeyed():
    # RFC 9110 §5.3: the lines are one list; reading only the first served this fresh.
    cache = HttpCache()
    url = stored(cache, [("Date", http_date(0)), ("Cache-Control", "max-age=3600"),
                         ("Cache-Control", "no-cache")])
    lookup = cache.lookup("GET", url, 1.0)
    assert lookup.state == "stale" and lookup.why.startswith("no-cache")
    assert not cache.store("GET", "http://h/n", 200, "OK",
                           [("Cache-Control", "public"), ("Cache-Control", "no-store")], b"", 0, 0)
    url = stored(cache, [("Date", http_date(0)), ("Cache-Control", "public"),
                         ("Cache-Control", "max-age=60")], url="http://h/two")
    assert cache.lookup("GET", url, 59.0).state == "fresh"       # the max-age on line two


def test_a_directives_quoted_argument_keeps_its_commas():
    cache = HttpCache()
    url = stored(cache, [("Date", http_date(0)),
                         ("Cache-Control", 'private="Set-Cookie, max-age=1", max-age=60')])
    assert cache.lookup("GET", url, 30.0).state == "fresh"       # not max-age=1, not twice


@pytest.mark.parametrize("headers,why", [
    ([("Cache-Control", "max-age=3600, max-age=60")], "max-age given twice"),
    ([("Cache-Control", "max-age=3600"), ("Cache-Control", "max-age=3600")], "max-age given twice"),
    ([("Expires", http_date(3600)), ("Expires", http_date(7200))], "Expires given twice"),
])
def test_a_value_given_twice_is_stale(headers, why):
    # RFC 9111 §4.2.1: the first occurrence, or stale; netsim takes stale.
    cache = HttpCache()
    url = stored(cache, [("Date", http_date(0)), *headers])
    lookup = cache.lookup("GET", url, 1.0)
    assert lookup.state == "stale" and why in lookup.why


def test_expires_without_a_date_counts_from_when_the_response_came():
    cache = HttpCache()
    url = stored(cache, [("Expires", http_date(160))], at=100.0)
    assert cache.lookup("GET", url, 159.0).state == "fresh"      # 60 s from its arrival
    assert cache.lookup("GET", url, 160.0).state == "stale"
    url = stored(cache, [("Expires", "0")], at=100.0, url="http://h/0")
    assert cache.lookup("GET", url, 100.0).state == "stale"      # §5.3: invalid means stale


def test_vary_uses_a_response_only_for_a_request_with_the_same_nominated_headers():
    cache = HttpCache()
    alice = [("Accept", "text/html"), ("Cookie", "session=alice")]
    bob = [("Accept", "text/html"), ("Cookie", "session=bob")]
    cache.store("GET", "http://h/me", 200, "OK",
                [("Date", http_date(0)), ("Cache-Control", "max-age=600"), ("Vary", "Cookie"),
                 ("ETag", '"a1"'), ("Last-Modified", http_date(0))], b"alice's", 0, 0, alice)
    assert cache.lookup("GET", "http://h/me", 1.0, alice).state == "fresh"
    assert cache.lookup("GET", "http://h/me", 1.0,
                        [("Cookie", "session=alice"), ("Accept", "*/*")]).state == "fresh"
    other = cache.lookup("GET", "http://h/me", 1.0, bob)
    assert other.state == "stale" and other.why == "Vary: cookie differs: revalidate its ETag"
    assert other.conditional == [("If-None-Match", '"a1"')]     # Chrome: not Last-Modified
    assert cache.lookup("GET", "http://h/me", 1.0, []).state == "stale"     # no Cookie at all
    cache.refresh("http://h/me", [("Date", http_date(2))], 2.0, 2.0, bob)   # 304 for bob
    assert cache.lookup("GET", "http://h/me", 3.0, bob).state == "fresh"
    assert cache.lookup("GET", "http://h/me", 3.0, alice).state == "stale"


def test_vary_star_never_matches_and_without_an_etag_a_mismatch_is_a_fetch():
    cache = HttpCache()
    cache.store("GET", "http://h/s", 200, "OK", [("Date", http_date(0)), ("Vary", "*"),
                ("Cache-Control", "max-age=600"), ("ETag", '"s"')], b"", 0, 0)
    assert cache.lookup("GET", "http://h/s", 1.0).why == "Vary: * matches no request: revalidate its ETag"
    cache.store("GET", "http://h/l", 200, "OK", [("Date", http_date(0)), ("Vary", "accept-language"),
                ("Vary", "Cookie"), ("Cache-Control", "max-age=600")], b"", 0, 0,
                [("Accept-Language", "en,  fr"), ("Cookie", "a=1")])
    assert cache.lookup("GET", "http://h/l", 1.0, [("Accept-Language", "en, fr"),
                                                  ("Cookie", "a=1")]).state == "fresh"
    miss = cache.lookup("GET", "http://h/l", 1.0, [("Accept-Language", "en"), ("Cookie", "a=1")])
    assert miss.state == "miss" and miss.why == "Vary: accept-language differs: fetch it"


# -- RFC 6265 §5.1.3 and §5.3 step 5: public suffixes and IP addresses ----------------------

@pytest.mark.parametrize("host,domain", [
    ("www.example.com", "com"), ("www.example.com", ".COM"),       # a single label (a TLD)
    ("shop.example.co.uk", "co.uk"), ("a.b.com.cn", "com.cn"),      # a registry's second level
    ("alice.github.io", "github.io"),                               # a platform's customers
    ("www.bank.test", "test"),                                      # any top label: the * rule
])
def test_a_domain_that_is_a_public_suffix_is_refused(host, domain):
    jar = CookieJar()
    assert jar.receive(host, "/", f"track=1; Domain={domain}", 0.0) is None
    assert jar.cookies == {} and jar.header("other." + domain.lstrip(".").lower(), "/", 1) is None


def test_a_registrable_domain_under_a_suffix_is_taken_and_shared_by_its_subdomains():
    jar = CookieJar()
    cookie = jar.receive("shop.example.co.uk", "/", "a=1; Domain=example.co.uk", 0.0)
    assert cookie is not None and not cookie.host_only
    assert jar.header("www.example.co.uk", "/", 1.0) == "a=1"
    assert jar.header("other.co.uk", "/", 1.0) is None
    assert jar.receive("bob.github.io", "/", "b=2; Domain=bob.github.io", 0.0).domain == "bob.github.io"
    assert jar.header("alice.github.io", "/", 1.0) is None


def test_a_public_suffix_that_is_the_host_itself_makes_a_host_only_cookie():
    # §5.3 step 5: "If the domain-attribute is identical to the canonicalized request-host,
    # let the domain-attribute be the empty string."
    jar = CookieJar()
    cookie = jar.receive("web", "/", "s=1; Domain=web", 0.0)
    assert cookie.host_only and cookie.domain == "web"
    assert jar.header("web", "/", 1.0) == "s=1" and jar.header("www.web", "/", 1.0) is None


def test_a_host_that_is_an_ip_address_domain_matches_only_itself():
    jar = CookieJar()
    assert jar.receive("10.0.2.80", "/", "a=1; Domain=0.2.80", 0.0) is None
    assert jar.receive("10.0.2.80", "/", "b=2; Domain=2.80", 0.0) is None
    assert jar.receive("10.0.2.80", "/", "c=3; Domain=10.0.2.80", 0.0) is not None
    assert jar.header("10.0.2.80", "/", 1.0) == "c=3"
    jar.receive("www.example.com", "/", "d=4; Domain=example.com", 0.0)
    assert jar.header("1.example.com", "/", 1.0) == "d=4"        # a host name, not an IP


def test_the_last_domain_attribute_counts_and_an_empty_one_is_ignored():
    jar = CookieJar()
    cookie = jar.receive("a.example.com", "/", "x=1; Domain=other.com; Domain=example.com", 0.0)
    assert cookie is not None and cookie.domain == "example.com"
    cookie = jar.receive("a.example.com", "/", "y=1; Domain=example.com; Domain=", 0.0)
    assert cookie.domain == "example.com"                        # §5.2.3: an empty one ignored
    cookie = jar.receive("a.example.com", "/", "z=1; Domain=.", 0.0)
    assert cookie.host_only and cookie.domain == "a.example.com"
