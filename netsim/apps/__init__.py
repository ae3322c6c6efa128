"""Applications that run on nodes: each is a sans-I/O engine plus its driver.

``APPS`` maps the names scenarios use (``run: ping``) to the classes; each class
documents its arguments and publishes them as ``SCHEMA`` (JSON Schema), which the
scenario loader checks before building it.
"""

from netsim.apps.base import App, resolve
from netsim.apps.browser import Browser
from netsim.apps.dhcp import DhcpClientApp, DhcpRelay, DhcpServerApp
from netsim.apps.dig import Dig, Nslookup
from netsim.apps.dns_server import DnsResolver, DnsServer
from netsim.apps.ftp import Ftp, FtpGet, FtpPut, FtpServer
from netsim.apps.http import HttpGet, HttpServer
from netsim.apps.mail_clients import ImapClientApp, MailSend, Pop3Fetch
from netsim.apps.mail_server import MailServer
from netsim.apps.ping import Ping
from netsim.apps.rarp import RarpBoot, RarpServer
from netsim.apps.traceroute import Traceroute
from netsim.apps.tcp import TcpSink, TcpSource
from netsim.apps.udp import UdpEcho, UdpEchoServer, UdpSend, UdpSink
from netsim.apps.websocket import WebSocketClientApp, WebSocketServerApp
from netsim.apps.web_clients import HttpDnsLookup, Poller, RestClient, SoapClient
from netsim.apps.web_services import HttpDnsServer, RestApiApp, SoapServiceApp

APPS: dict[str, type[App]] = {cls.name: cls for cls in (
    Ping, Traceroute, RarpServer, RarpBoot, UdpSend, UdpSink, UdpEcho, UdpEchoServer,
    TcpSource, TcpSink, DnsServer, DnsResolver, Dig, Nslookup, DhcpServerApp, DhcpClientApp, DhcpRelay,
    MailServer, MailSend, Pop3Fetch, ImapClientApp, FtpServer, Ftp, FtpGet, FtpPut,
    HttpServer, HttpGet, Browser, RestApiApp, RestClient, SoapServiceApp, SoapClient,
    HttpDnsServer, HttpDnsLookup, WebSocketServerApp, WebSocketClientApp, Poller)}

__all__ = ["APPS", "App", "Browser", "DhcpClientApp", "DhcpRelay", "DhcpServerApp", "Dig", "Ftp", "FtpGet", "FtpPut", "FtpServer", "HttpDnsLookup", "HttpDnsServer", "HttpGet", "HttpServer", "ImapClientApp", "MailSend", "MailServer", "Nslookup",
           "Pop3Fetch", "DnsResolver", "DnsServer", "Ping", "Poller", "RarpBoot", "RarpServer", "RestApiApp", "RestClient", "SoapClient", "SoapServiceApp", "TcpSink", "TcpSource", "Traceroute",
           "UdpEcho", "UdpEchoServer", "UdpSend", "UdpSink", "WebSocketClientApp", "WebSocketServerApp", "resolve"]
