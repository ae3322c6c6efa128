"""A SOAP 1.1 web service with its WSDL, with no I/O: the classic course example, a weather lookup.

``GET /WeatherWS.asmx?wsdl`` answers the service description (WSDL 1.1, document/literal,
SOAP 1.1 binding over HTTP); ``POST /WeatherWS.asmx`` with ``Content-Type: text/xml`` and
a ``SOAPAction`` header carries an envelope (SOAP 1.1 §4) whose body names the operation
and its arguments; the answer is an envelope with ``<OperationResponse>``, or a
``soap:Fault`` with ``500 Internal Server Error`` (SOAP 1.1 §6.2) — ``soap:Client`` for
what the caller got wrong (an unknown city, XML that does not parse, an operation or
SOAPAction the service does not have).

A request is read as SOAP 1.1 §3 demands: "A SOAP message MUST NOT contain a Document
Type Declaration" nor processing instructions. So no entity is ever declared, let
alone expanded (the stdlib's expat expands internal ones: a billion laughs, or one
large entity referenced many times), and a DOCTYPE or PI is a ``soap:Client`` fault,
as ASP.NET answers "DTD is prohibited". Nesting costs nothing here: expat and the
tree builder do not recurse, and the service looks only at the first levels.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape

from netsim.proto.http.site import Answer, error_page, http_date

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
NAMESPACE = "http://netsim.example/weather"
XML = "text/xml; charset=utf-8"


def envelope(body: str) -> bytes:
    return (f'<?xml version="1.0" encoding="utf-8"?>\n<soap:Envelope xmlns:soap="{SOAP_ENV}">'
            f"<soap:Body>{body}</soap:Body></soap:Envelope>\n").encode()


def fault(code: str, text: str) -> bytes:
    return envelope(f"<soap:Fault><faultcode>soap:{code}</faultcode>"
                    f"<faultstring>{escape(text)}</faultstring></soap:Fault>")


class Prohibited(ET.ParseError):
    """What SOAP 1.1 §3 does not allow in a message (a DOCTYPE, a processing instruction);
    a ParseError, so whoever handles XML that does not parse handles this too."""


class _MessageBuilder(ET.TreeBuilder):
    """A tree builder that stops at a DOCTYPE (expat announces it before reading its
    entity declarations) or a processing instruction."""

    def doctype(self, name, pubid, system):
        raise Prohibited("a DTD")

    def pi(self, target, data):
        raise Prohibited("a processing instruction")


def read_message(xml: bytes) -> ET.Element:
    """A peer's SOAP message or WSDL → its root element, or ParseError (Prohibited
    among them). Read as UTF-8 (UTF-16 with its byte-order mark), whatever the XML
    declaration says, as the WS-I Basic Profile allows no other (R1012): another
    declared encoding would be looked up among Python's codecs, where ``rot13`` or
    ``utf-7`` raise what no XML parser should."""
    parser = ET.XMLParser(target=_MessageBuilder(), encoding="utf-8")
    parser.feed(xml)
    return parser.close()


class WeatherService:
    """Operations: ``GetWeather(theCityCode)`` → the city's forecast fields, and
    ``GetSupportCityString()`` → the cities it knows."""

    OPERATIONS = {"GetWeather": ["theCityCode"], "GetSupportCityString": []}

    def __init__(self, cities: dict[str, dict], *, path: str = "/WeatherWS.asmx",
                 host: str = "localhost") -> None:
        self.cities = cities
        self.path, self.host = path, host
        self.calls: list[dict] = []

    def respond(self, method: str, target: str, headers: dict[str, str], now: float,
                body: bytes = b"") -> Answer:
        date = ("Date", http_date(now))
        path, _, query = target.partition("?")
        if path != self.path:
            return error_page(404, f"{path}: the service is at {self.path}", date)
        if method in ("GET", "HEAD") and query.lower() == "wsdl":
            return Answer(200, [date, ("Content-Type", XML)], self.wsdl())
        if method != "POST":
            answer = error_page(405, f"{method}: SOAP calls are POSTed; the WSDL is at ?wsdl", date)
            return Answer(405, answer.headers + [("Allow", "GET, POST")], answer.body)
        status, xml = self._call(headers, body)
        return Answer(status, [date, ("Content-Type", XML)], xml)

    def _call(self, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        try:
            root = read_message(body)
        except Prohibited as exc:
            return 500, fault("Client", f"{exc} is prohibited in a SOAP message")
        except ET.ParseError as exc:
            return 500, fault("Client", f"the request is not XML: {exc}")
        soap_body = root.find(f"{{{SOAP_ENV}}}Body")
        if root.tag != f"{{{SOAP_ENV}}}Envelope" or soap_body is None or len(soap_body) == 0:
            return 500, fault("Client", "not a SOAP 1.1 envelope with a Body")
        call = soap_body[0]
        operation = call.tag.rsplit("}", 1)[-1]
        action = headers.get("soapaction", "").strip('"')
        if operation not in self.OPERATIONS:
            return 500, fault("Client", f"no operation {operation}")
        if action != f"{NAMESPACE}/{operation}":
            return 500, fault("Client", f"SOAPAction {action!r} does not match {operation}")
        args = {child.tag.rsplit("}", 1)[-1]: (child.text or "") for child in call}
        self.calls.append({"operation": operation, "args": args})
        if operation == "GetSupportCityString":
            items = "".join(f"<string>{escape(c)}</string>" for c in self.cities)
            return 200, envelope(f'<GetSupportCityStringResponse xmlns="{NAMESPACE}">'
                                 f"<GetSupportCityStringResult>{items}</GetSupportCityStringResult>"
                                 "</GetSupportCityStringResponse>")
        city = args.get("theCityCode", "")
        if city not in self.cities:
            return 500, fault("Client", f"unknown city {city!r}; GetSupportCityString lists them")
        fields = "".join(f"<{k}>{escape(str(v))}</{k}>" for k, v in self.cities[city].items())
        return 200, envelope(f'<GetWeatherResponse xmlns="{NAMESPACE}"><GetWeatherResult>'
                             f"<city>{escape(city)}</city>{fields}</GetWeatherResult>"
                             "</GetWeatherResponse>")

    def wsdl(self) -> bytes:
        """WSDL 1.1 (§2): types, messages, a port type, a SOAP binding and the service."""
        parts, ops, bindings = [], [], []
        for op, args in self.OPERATIONS.items():
            elements = "".join(f'<s:element name="{a}" type="s:string"/>' for a in args)
            parts.append(f'<s:element name="{op}"><s:complexType><s:sequence>{elements}'
                         f'</s:sequence></s:complexType></s:element>'
                         f'<s:element name="{op}Response"><s:complexType><s:sequence>'
                         f'<s:element name="{op}Result" type="s:anyType"/></s:sequence>'
                         f"</s:complexType></s:element>")
            ops.append(f'<wsdl:operation name="{op}"><wsdl:input message="tns:{op}SoapIn"/>'
                       f'<wsdl:output message="tns:{op}SoapOut"/></wsdl:operation>')
            bindings.append(f'<wsdl:operation name="{op}"><soap:operation soapAction='
                            f'"{NAMESPACE}/{op}" style="document"/><wsdl:input><soap:body '
                            f'use="literal"/></wsdl:input><wsdl:output><soap:body use="literal"/>'
                            f"</wsdl:output></wsdl:operation>")
        messages = "".join(f'<wsdl:message name="{op}SoapIn"><wsdl:part name="parameters" '
                           f'element="tns:{op}"/></wsdl:message><wsdl:message name="{op}SoapOut">'
                           f'<wsdl:part name="parameters" element="tns:{op}Response"/></wsdl:message>'
                           for op in self.OPERATIONS)
        return (f'<?xml version="1.0" encoding="utf-8"?>\n<wsdl:definitions '
                f'xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/" '
                f'xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/" '
                f'xmlns:s="http://www.w3.org/2001/XMLSchema" xmlns:tns="{NAMESPACE}" '
                f'targetNamespace="{NAMESPACE}"><wsdl:types><s:schema elementFormDefault='
                f'"qualified" targetNamespace="{NAMESPACE}">{"".join(parts)}</s:schema>'
                f"</wsdl:types>{messages}<wsdl:portType name=\"WeatherWSSoap\">{''.join(ops)}"
                f'</wsdl:portType><wsdl:binding name="WeatherWSSoap" type="tns:WeatherWSSoap">'
                f'<soap:binding transport="http://schemas.xmlsoap.org/soap/http"/>'
                f"{''.join(bindings)}</wsdl:binding><wsdl:service name=\"WeatherWS\">"
                f'<wsdl:port name="WeatherWSSoap" binding="tns:WeatherWSSoap"><soap:address '
                f'location="http://{self.host}{self.path}"/></wsdl:port></wsdl:service>'
                f"</wsdl:definitions>\n").encode()


def read_wsdl(xml: bytes) -> dict:
    """What a client needs from a WSDL: the endpoint, the target namespace, and each
    operation's SOAPAction and argument names. Raises ParseError only."""
    ns = {"wsdl": "http://schemas.xmlsoap.org/wsdl/", "soap": "http://schemas.xmlsoap.org/wsdl/soap/",
          "s": "http://www.w3.org/2001/XMLSchema"}
    root = read_message(xml)
    target = root.get("targetNamespace", "")
    address = root.find(".//wsdl:service/wsdl:port/soap:address", ns)
    operations = {}
    # Looked up by name here, not in a path predicate: a name with a quote in it (the
    # server's to choose) would be a SyntaxError in ElementPath.
    elements: dict = {}
    for element in root.findall(".//s:schema/s:element", ns):
        elements.setdefault(element.get("name"), element)
    for op in root.findall("wsdl:binding/wsdl:operation", ns):
        name = op.get("name")
        soap_op = op.find("soap:operation", ns)
        element = elements.get(name)
        args = [e.get("name") for e in element.findall(".//s:element", ns)] if element is not None else []
        operations[name] = {"action": soap_op.get("soapAction") if soap_op is not None else "",
                            "args": args}
    return {"namespace": target, "location": address.get("location") if address is not None else None,
            "operations": operations}


def call_envelope(namespace: str, operation: str, args: dict) -> bytes:
    inner = "".join(f"<{k}>{escape(str(v))}</{k}>" for k, v in args.items())
    return envelope(f'<{operation} xmlns="{namespace}">{inner}</{operation}>')


def read_response(xml: bytes) -> dict:
    """A response envelope → ``{"result": {...}}`` or ``{"fault": {code, string}}``;
    ParseError or ValueError for one that is not."""
    root = read_message(xml)
    body = root.find(f"{{{SOAP_ENV}}}Body")
    if body is None or len(body) == 0:
        raise ValueError("no SOAP Body")
    first = body[0]
    if first.tag == f"{{{SOAP_ENV}}}Fault":
        return {"fault": {"code": first.findtext("faultcode"), "string": first.findtext("faultstring")}}
    result = first[0] if len(first) else first
    values = [(c.tag.rsplit("}", 1)[-1], c.text) for c in result]
    if values and all(tag == "string" for tag, _ in values):
        return {"result": [text for _, text in values]}
    return {"result": dict(values)}
