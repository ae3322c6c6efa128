"""Pictures that say nothing false: a message drawn incomplete must not be one the
receiver got whole."""

from netsim import load_scenario, run_scenario
from netsim.viz import messages
from tests.conftest import SCENARIOS, tshark_fields


def test_an_http_1_0_response_whose_last_segment_carries_the_fin_is_drawn_whole(tmp_path):
    """Linux puts its FIN on the last data segment when nginx closes after an HTTP/1.0
    answer: that segment's bytes are the response's end, not a close after it."""
    result = run_scenario(load_scenario(SCENARIOS / "http-1.0-vs-1.1.yaml"), tmp_path)
    drawn = [m for m in messages(result.trace, level="app") if m.protocol == "HTTP"]
    assert drawn and not [m.label for m in drawn if "incomplete" in m.label]
    # The captures agree: FINs with data, and every response tshark reassembled is whole.
    fins = tshark_fields(tmp_path / "pcap" / "r1-web.pcap", "frame.number",
                         display_filter="tcp.srcport == 80 && tcp.flags.fin == 1 && tcp.len > 0")
    assert fins
    lengths = tshark_fields(tmp_path / "pcap" / "r1-web.pcap", "http.content_length",
                            display_filter="http.response")
    answered = [m for m in drawn if m.label.startswith("HTTP/1.1 200")]
    assert len(answered) == len(lengths)
