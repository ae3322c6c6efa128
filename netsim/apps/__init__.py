"""Applications that run on nodes: each is a sans-I/O engine plus its driver.

``APPS`` maps the names scenarios use (``run: ping``) to the classes; each class
documents its arguments and publishes them as ``SCHEMA`` (JSON Schema), which the
scenario loader checks before building it.
"""

from netsim.apps.base import App, resolve
from netsim.apps.browser import Browser
from netsim.apps.dhcp import DhcpClientApp, DhcpRelay, DhcpServerApp
from netsim.apps.dig import Dig, Nslookup
from netsim.apps.dns_attack import DnsPoison
from netsim.apps.dns_server import DnsResolver, DnsServer
from netsim.apps.ftp import Ftp, FtpGet, FtpPut, FtpServer
from netsim.apps.http import HttpGet, HttpServer
from netsim.apps.mail_clients import ImapClientApp, MailSend, Pop3Fetch
from netsim.apps.mail_server import MailServer
from netsim.apps.ping import Ping
from netsim.apps.python_app import PythonApp
from netsim.apps.rarp import RarpBoot, RarpServer
from netsim.apps.traceroute import Traceroute
from netsim.apps.tcp import TcpSink, TcpSource
from netsim.apps.udp import UdpEcho, UdpEchoServer, UdpSend, UdpSink
from netsim.apps.websocket import WebSocketClientApp, WebSocketServerApp
from netsim.apps.web_clients import HttpDnsLookup, Poller, RestClient, SoapClient
from netsim.apps.web_services import HttpDnsServer, RestApiApp, SoapServiceApp


def _scenario_apps() -> dict[str, type[App]]:
    """Every application of the modules imported above, by the name it declares (``name =
    "ftp"``): a class that only inherits its name (a shared base such as HttpService) is
    none, nor is an App subclass written outside netsim.apps (a test's)."""
    found: dict[str, type[App]] = {}
    todo = list(App.__subclasses__())
    while todo:
        cls = todo.pop()
        todo += cls.__subclasses__()
        if "name" in vars(cls) and cls.__module__.startswith("netsim.apps."):
            if found.setdefault(cls.name, cls) is not cls:
                raise TypeError(f"two applications are called {cls.name!r}: "
                                f"{found[cls.name].__qualname__} and {cls.__qualname__}")
    return dict(sorted(found.items()))


APPS: dict[str, type[App]] = _scenario_apps()

__all__ = sorted(["APPS", "App", "resolve", *(cls.__name__ for cls in APPS.values())])
