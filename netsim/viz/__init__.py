"""Pictures of what happened, drawn from the trace alone (never from the models).

* :func:`sequence_diagram` — who sent what to whom, when, and what was lost:
  SVG/PNG (matplotlib), Mermaid and PlantUML text.
* :func:`frame_timeline`, :func:`link_plot`, :func:`tcp_plot`, :func:`throughput_plot`
  — time on the x axis.
* :func:`topology_plot` — the network as the trace recorded it.
* :func:`waterfall` — page loads, request by request, as browser developer tools draw them.

matplotlib is imported only when a picture is drawn.
"""

from netsim.viz.messages import Message, messages
from netsim.viz.sequence import SequenceDiagram, sequence_diagram
from netsim.viz.timeline import frame_timeline, link_plot, tcp_plot, throughput_plot, timeline_figure
from netsim.viz.topology import topology_plot
from netsim.viz.waterfall import waterfall

__all__ = ["Message", "SequenceDiagram", "frame_timeline", "link_plot", "messages",
           "sequence_diagram", "tcp_plot", "throughput_plot", "timeline_figure", "topology_plot", "waterfall"]
