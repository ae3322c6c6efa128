"""The browser's engines alone: the cache's freshness (RFC 9111), the cookie jar
(RFC 6265), redirect method rules (RFC 9110 §15.4) and reading a page for its objects."""

import pytest

from netsim.proto.http.cache import HttpCache
from netsim.proto.http.cookies import CookieJar
from netsim.proto.http.page import page_text, references
from netsim.proto.http.redirects import location, redirected
from netsim.proto.http.site import Site, http_date, resource_from_spec
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


def test_location_is_made_absolute():
    assert location("http://web/a/b", "/new") == "http://web/new"
    assert location("http://web/a/b", "c") == "http://web/a/c"
    assert location("http://web/a", "http://other/x") == "http://other/x"


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
