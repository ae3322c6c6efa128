"""REST, SOAP and HTTPDNS handlers, each driven through the HTTP/1.x engines in a pair
(h11 on both sides) as the apps drive them."""

import json

from netsim.proto.http import HttpServerConnection
from netsim.proto.http.client import HttpClientConnection, Request
from netsim.proto.http.httpdns import HttpDnsService
from netsim.proto.http.httpdns_answer import parse_httpdns_answer
from netsim.proto.http.rest import RestApi
from netsim.proto.http.soap import (WeatherService, call_envelope, read_response, read_wsdl)
from netsim.proto.stream import Close, Send


def exchange(handler, requests):
    server = HttpServerConnection({"*": handler})
    client = HttpClientConnection(requests, host="api")
    client.start(0.0)
    for _ in range(200):
        moved = False
        for out in client.outputs():
            moved = True
            if isinstance(out, Send):
                server.receive(out.data, 0.0)
            elif isinstance(out, Close):
                server.connection_lost(0.0)
        for out in server.outputs():
            moved = True
            if isinstance(out, Send):
                client.receive(out.data, 0.0)
            elif isinstance(out, Close):
                client.connection_lost(0.0)
        if not moved:
            break
    return client.exchanges


def j(method, path, value=None):
    body = json.dumps(value).encode() if value is not None else b""
    return Request(method, path, [("Content-Type", "application/json")] if body else [], body)


def test_rest_methods_codes_and_state():
    api = RestApi({"users": [{"id": 6, "name": "alice", "cars": [{"id": 88, "model": "X"}]}]})
    got = exchange(api, [
        j("GET", "/v1/users/6/cars/88"), j("POST", "/v1/users", {"name": "carol"}),
        j("POST", "/v1/users/7/cars", {"model": "Civic"}), j("PATCH", "/v1/users/7", {"name": "c"}),
        j("PUT", "/v1/users/7", {"model": "no name"}), j("DELETE", "/v1/users/6/cars/88"),
        j("GET", "/v1/users/6/cars/88"), j("DELETE", "/v1/users"), j("POST", "/v1/users", {"id": 6, "name": "x"}),
        Request("POST", "/v1/users", [], b"not json"), j("GET", "/v2/users")])
    assert [e.status for e in got] == [200, 201, 201, 200, 422, 204, 404, 405, 409, 422, 404]
    assert got[1].header("Location") == "/v1/users/7"
    assert json.loads(got[1].body) == {"id": 7, "name": "carol", "cars": []}
    assert got[5].body == b"" and got[5].header("Content-Length") is None
    assert got[7].header("Allow") == "GET, HEAD, POST"
    assert all(e.header("Content-Type") == "application/json" for e in got if e.status != 204)
    assert api.data["users"][1] == {"id": 7, "name": "c", "cars": [{"id": 1, "model": "Civic"}]}
    assert api.data["users"][0]["cars"] == []


def test_soap_wsdl_calls_and_faults():
    service = WeatherService({"Beijing": {"weather": "sunny"}}, host="weather")
    wsdl = exchange(service, [Request("GET", "/WeatherWS.asmx?wsdl")])[0]
    description = read_wsdl(wsdl.body)
    assert description["location"] == "http://weather/WeatherWS.asmx"
    op = description["operations"]["GetWeather"]
    assert op == {"action": "http://netsim.example/weather/GetWeather", "args": ["theCityCode"]}

    def call(city, action=op["action"]):
        return Request("POST", "/WeatherWS.asmx", [("Content-Type", "text/xml; charset=utf-8"),
                                                    ("SOAPAction", f'"{action}"')],
                       call_envelope(description["namespace"], "GetWeather", {"theCityCode": city}))
    ok, unknown, wrong_action, bad = exchange(service, [
        call("Beijing"), call("Atlantis"), call("Beijing", "urn:other"),
        Request("POST", "/WeatherWS.asmx", [("SOAPAction", '""')], b"<not xml")])
    assert ok.status == 200 and read_response(ok.body) == {
        "result": {"city": "Beijing", "weather": "sunny"}}
    for e in (unknown, wrong_action, bad):
        assert e.status == 500 and read_response(e.body)["fault"]["code"] == "soap:Client"


def test_httpdns_text_json_unknown_and_no_name():
    service = HttpDnsService({"www.example.com": ["10.0.2.80", "10.0.2.81"]}, ttl=60)
    text, as_json, unknown, missing = exchange(service, [
        Request("GET", "/d?dn=www.example.com"), Request("GET", "/d?dn=WWW.example.com.&type=json"),
        Request("GET", "/d?dn=nosuch.example.com"), Request("GET", "/d")])
    assert text.body == b"10.0.2.80;10.0.2.81,60"
    assert parse_httpdns_answer(text.body, text.header("Content-Type")) == (["10.0.2.80", "10.0.2.81"], 60)
    assert parse_httpdns_answer(as_json.body, as_json.header("Content-Type")) == (["10.0.2.80", "10.0.2.81"], 60)
    assert unknown.status == 200 and parse_httpdns_answer(unknown.body, "text/plain") == ([], None)
    assert missing.status == 400
