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


def test_layers_import_only_downward():
    """The layers (README: the packages): proto never imports sim; viz never sim/proto;
    only wire imports Scapy."""
    import ast
    from pathlib import Path
    root = Path(netsim.__file__).parent
    rules = {"proto": ("simpy", "matplotlib", "netsim.sim", "netsim.viz", "netsim.apps", "netsim.cli"),
             "viz": ("simpy", "netsim.sim", "netsim.proto", "netsim.apps"),
             "trace": ("netsim.sim", "netsim.apps", "netsim.viz", "netsim.cli"),
             "wire": ("simpy", "netsim.sim", "netsim.apps", "netsim.viz", "netsim.proto")}
    bad = []
    for path in root.rglob("*.py"):
        layer = path.relative_to(root).parts[0]
        tree = ast.parse(path.read_text())
        names = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
        names += [n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module and not n.level]
        for name in names:
            if any(name == b or name.startswith(b + ".") for b in rules.get(layer, ())):
                bad.append(f"{path.relative_to(root)} imports {name}")
            if name.split(".")[0] == "scapy" and layer != "wire":
                bad.append(f"{path.relative_to(root)} imports {name}")
            if name.split(".")[0] == "simpy" and layer != "sim":
                bad.append(f"{path.relative_to(root)} imports {name}")
    assert bad == []
