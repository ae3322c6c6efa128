"""What the summary counts: a frame a lossy link loses was still sent."""

from netsim import load_scenario, run_scenario
from tests.conftest import SCENARIOS


def test_frames_lost_on_the_wire_count_as_sent_and_the_line_says_how_many():
    result = run_scenario(load_scenario(SCENARIOS / "tcp-lossy.yaml"))
    frames, drops, links = (result.summary[k] for k in ("frames", "drops", "links"))
    assert drops["loss"] > 0
    assert frames["sent"] == frames["transmitted"] + drops["loss"] > frames["received"]
    assert frames["sent"] == sum(c["frames"] + c["lost"] for c in links.values())
    line = next(l for l in result.text().splitlines() if l.startswith("frames:"))
    assert line == (f"frames: {frames['sent']} sent on links ({drops['loss']} lost on the way), "
                    f"{frames['received']} received, {frames['dropped']} dropped")
