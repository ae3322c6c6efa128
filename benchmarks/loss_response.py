"""TCP goodput against loss, both stacks, beside the models: the Mathis et al. formula
MSS/RTT·√(3/2)/√p for the textbook stack (NewReno), and RFC 9438 §5.1's response
function for CUBIC, max(W_cubic, W_reno)·MSS/RTT with W_cubic = (C(3+β)/(4(1−β)))^¼ ·
RTT^¼ / p^¾ segments.

    python benchmarks/loss_response.py [--seeds 3] [--duration 30]

A 40 ms path at 100 Mbit/s, loss on the middle link (both ways; a lost ACK matters little), a queue long
enough never to drop: the loss rate alone limits the sender. Prints one line per stack
and loss rate: the median goodput over the seeds, the model's, and their ratio.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from netsim import parse_scenario, run_scenario  # noqa: E402

SCENARIO = """
name: loss-response
seed: {seed}
until: {until}s
defaults:
  link: {{rate: 100Mbps, delay: 1ms}}
  stack: {stack}
nodes:
  a:  {{kind: host, ip: 10.0.1.10/24, gateway: 10.0.1.1}}
  r1: {{kind: router}}
  r2: {{kind: router}}
  b:  {{kind: host, ip: 10.0.2.20/24, gateway: 10.0.2.1}}
links:
  - {{endpoints: [a, r1]}}
  - {{endpoints: [r1, r2], delay: 18ms, loss: {loss}, queue: 2000}}
  - {{endpoints: [r2, b]}}
apps:
  - {{node: b, run: tcp-sink, port: 5001}}
  - {{node: a, at: 0.1s, run: tcp-source, target: b, port: 5001, duration: {duration}s}}
"""
RTT = 0.040
C, BETA = 0.4, 0.7


def goodput(stack: str, loss: float, seed: int, duration: float) -> float:
    text = SCENARIO.format(seed=seed, until=duration + 5, stack=stack, loss=f"{loss:.4%}",
                           duration=duration)
    result = run_scenario(parse_scenario(text))
    return result.app("tcp-source").result()["goodput_bps"]


def mathis(loss: float, mss: int = 1460) -> float:
    return mss * 8 / RTT * math.sqrt(1.5) / math.sqrt(loss)


def cubic_model(loss: float, mss: int = 1448) -> float:
    """RFC 9438 §5.1: the cubic region's average window, or — where it is smaller — the
    Reno-friendly region's, whose α and β were chosen to match Reno's √(3/2)/√p."""
    w_cubic = (C * (3 + BETA) / (4 * (1 - BETA))) ** 0.25 * RTT ** 0.25 / loss ** 0.75
    w_reno = math.sqrt(1.5) / math.sqrt(loss)
    return max(w_cubic, w_reno) * mss * 8 / RTT


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--loss", default="0.5%,1%,2%")
    args = parser.parse_args()
    for stack, model in (("textbook", mathis), ("linux", cubic_model)):
        for text in args.loss.split(","):
            loss = float(text.rstrip("%")) / 100
            runs = [goodput(stack, loss, seed, args.duration) for seed in range(1, args.seeds + 1)]
            got, want = statistics.median(runs), model(loss)
            print(f"stack={stack} loss={text} goodput_mbps={got / 1e6:.2f} "
                  f"model_mbps={want / 1e6:.2f} ratio={got / want:.2f}")


if __name__ == "__main__":
    main()
