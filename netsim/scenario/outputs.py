"""What a run can write, as ``--outputs`` names it (``netsim run`` and ``netsim sweep``)."""

from __future__ import annotations

from netsim.errors import ScenarioError
from netsim.scenario.schema import OUTPUTS


def parse_outputs(text: str | None) -> list[str] | None:
    """``--outputs pcap,summary`` → the list (None when not given), each name checked
    against :data:`~netsim.scenario.schema.OUTPUTS`."""
    if text is None:
        return None
    outputs = [o.strip() for o in text.split(",") if o.strip()]
    unknown = [o for o in outputs if o not in OUTPUTS]
    if unknown:
        raise ScenarioError(f"unknown output {unknown[0]!r} (one of: {', '.join(OUTPUTS)})",
                            path="--outputs", source="command line")
    return outputs
