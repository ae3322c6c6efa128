"""The colours every picture uses: one per protocol, and the kinds of TCP segment a
lesson points at (retransmissions, fast retransmissions, window probes)."""

PROTOCOL_COLORS = {"ARP": "#7f7f7f", "RARP": "#8c564b", "ICMP": "#ff7f0e", "UDP": "#2ca02c",
                   "TCP": "#1f77b4", "STP": "#bc80bd", "DNS": "#17a589",
                   "DHCP": "#b8860b", "SMTP": "#c0392b", "POP": "#6c3483", "IMAP": "#1a5276",
                   "FTP": "#8e44ad", "FTP-DATA": "#d35400",
                   "HTTP": "#117a65", "WebSocket": "#b03a2e"}
KIND_COLORS = {"retransmission": "#e377c2", "fast-retransmission": "#9467bd",
               "zero-window-probe": "#bcbd22", "zero-window": "#17becf",
               "window-update": "#17becf", "dup-ack": "#6baed6", "dup-ack-repeat": "#6baed6"}
#: What the legend calls each kind.
KIND_NAMES = {"retransmission": "retransmission", "fast-retransmission": "fast retransmission",
              "zero-window-probe": "zero-window probe", "zero-window": "zero window / window update",
              "window-update": "zero window / window update", "dup-ack": "duplicate ACK",
              "dup-ack-repeat": "duplicate ACK"}
DROP_COLOR = "#d62728"
OTHER_COLOR = "#333333"

# Kept under the names older code and notebooks import.
COLORS = PROTOCOL_COLORS


def color_of(protocol: str, kind: str = "") -> str:
    return KIND_COLORS.get(kind) or PROTOCOL_COLORS.get(protocol, OTHER_COLOR)
