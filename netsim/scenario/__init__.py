"""Scenario files: YAML in the shape of Containerlab topologies, validated with paths.

``load_scenario(path)`` returns a :class:`Scenario` or raises
:class:`~netsim.errors.ScenarioError` naming the key path and line;
``Scenario.build()`` makes the network and its applications; ``run_scenario``
runs it and writes the outputs.
"""

from netsim.scenario.loader import Scenario, load_scenario, parse_scenario
from netsim.scenario.runner import RunResult, run_scenario
from netsim.scenario.schema import scenario_schema

__all__ = ["RunResult", "Scenario", "load_scenario", "parse_scenario", "run_scenario",
           "scenario_schema"]
