import netsim


def test_all_names_resolve_and_nothing_else_is_public():
    for name in netsim.__all__:
        assert getattr(netsim, name) is not None, name
    assert sorted(netsim.__all__) == netsim.__all__
    assert {"Network", "line", "lan", "load_scenario", "run_scenario", "Ping", "Traceroute",
            "Frame", "Trace", "ScenarioError"} <= set(netsim.__all__)


def test_errors_form_one_tree():
    assert issubclass(netsim.ScenarioError, netsim.NetsimError)
    assert issubclass(netsim.AddressError, netsim.TopologyError)
    assert issubclass(netsim.FrameError, netsim.NetsimError)

