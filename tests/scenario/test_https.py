"""The bundled ``https`` lesson: tshark decrypts its captures with the key log the run
writes, the handshakes take the round trips RFC 8446 and RFC 5246 say, a resumed one has
no Certificate, and each bad certificate is refused as Chrome and curl refuse it."""

import os
import subprocess
from pathlib import Path

import pytest

from netsim.scenario import load_scenario, run_scenario
from tests.conftest import require_tshark

SCENARIO = Path(__file__).resolve().parents[2] / "scenarios" / "https.yaml"


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("https")
    result = run_scenario(load_scenario(SCENARIO), out, outputs=["pcap", "summary"])
    return result, out


def _tshark(out: Path, pcap: str, display_filter: str, *, keys: bool = True) -> list[str]:
    cmd = [require_tshark(), "-n", "-r", str(out / "pcap" / pcap), "-T", "fields",
           "-e", "frame.number", "-Y", display_filter]
    if keys:
        cmd[2:2] = ["-o", f"tls.keylog_file:{out / 'keys.log'}"]
    return subprocess.run(cmd, capture_output=True, text=True, check=True,
                          env={**os.environ, "LC_ALL": "C"}).stdout.split()


def _app(result, app, node):
    return next(a for a in result.summary["apps"] if a["app"] == app and a["node"] == node)


def test_the_key_log_and_certificates_are_written_beside_the_captures(run):
    _result, out = run
    log = (out / "keys.log").read_text()
    assert "CLIENT_HANDSHAKE_TRAFFIC_SECRET" in log and "CLIENT_RANDOM" in log   # 1.3 and 1.2
    assert {p.name for p in (out / "certs").iterdir()} >= {"ca.pem", "web.pem", "web.key"}


def test_tshark_decrypts_the_http_inside_only_with_the_key_log(run):
    _result, out = run
    assert len(_tshark(out, "dc-web.pcap", "http.request")) == 9       # 3 objects × 3 loads
    assert _tshark(out, "dc-web.pcap", "http", keys=False) == []        # nothing in the clear
    assert _tshark(out, "dc-web.pcap", "_ws.malformed") == []


def test_handshake_round_trips_and_resumption(run):
    result, _out = run
    alice = _app(result, "browser", "alice")["result"]["tls"]
    bob = _app(result, "browser", "bob")["result"]["tls"]
    full_13 = [h for h in alice if not h["resumed"]]
    assert [h["version"] for h in full_13] == ["TLSv1.3"]
    assert full_13[0]["handshake_rtts"] == pytest.approx(1.0, abs=0.15)
    full_12 = [h for h in bob if not h["resumed"]]
    assert [h["version"] for h in full_12] == ["TLSv1.2"]
    assert full_12[0]["handshake_rtts"] == pytest.approx(2.0, abs=0.15)
    # Every later connection (the second of visit 1, all of visit 2) resumed.
    assert sum(h["resumed"] for h in alice) == len(alice) - 1


def test_a_resumed_handshake_sends_no_certificate(run):
    result, out = run
    handshakes = [h for app in ("alice", "bob")
                  for h in _app(result, "browser", app)["result"]["tls"]]
    full = sum(not h["resumed"] for h in handshakes)
    # TLS 1.3's Certificate is encrypted: tshark sees it with the keys.
    assert len(_tshark(out, "dc-web.pcap", "tls.handshake.type == 11")) == full == 2


@pytest.mark.parametrize("visit, error", [
    (3, "NET::ERR_CERT_AUTHORITY_INVALID"), (4, "NET::ERR_CERT_AUTHORITY_INVALID"),
    (5, "NET::ERR_CERT_COMMON_NAME_INVALID"), (6, "NET::ERR_CERT_DATE_INVALID"),
    (7, "NET::ERR_CERT_DATE_INVALID")])
def test_each_bad_certificate_is_refused_as_chrome_refuses_it(run, visit, error):
    result, _out = run
    record = _app(result, "browser", "alice")["result"]["visits"][visit - 1]
    assert record["error"] == error and record["requests"] == 0


def test_curl_refuses_the_unknown_ca_with_exit_60_and_an_alert_on_the_wire(run):
    result, out = run
    curl = _app(result, "http-get", "carol")
    assert curl["result"]["curl_exit"] == 60
    assert "SSL certificate problem: unable to get local issuer certificate" in curl["error"]
    alerts = _tshark(out, "dc-untrusted.pcap", "tls.alert_message.desc == 48", keys=False)
    assert len(alerts) == 2                 # alice's browser and carol's curl: unknown_ca
    assert _tshark(out, "dc-untrusted.pcap", "http") == []
