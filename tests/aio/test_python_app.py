"""`run: python`: a scenario runs its own asyncio module on a host."""

from __future__ import annotations

import pytest

from netsim import load_scenario, run_scenario
from netsim.errors import ScenarioError

PROGRAM = '''
import asyncio

async def echo(reader, writer):
    writer.write(await reader.read(100))
    await writer.drain()
    writer.close()

async def server(host, port=7):
    listener = await asyncio.start_server(echo, port=port)
    print(f"listening on {host.name}:{port}")
    await listener.serve_forever()

async def main(host, target, port=7):
    reader, writer = await asyncio.open_connection(target, port)
    writer.write(b"hi from " + host.name.encode())
    print("got", await reader.read(100), end="")
    print(f" at {asyncio.get_running_loop().time():.3f}")
    return 42

async def broken(host):
    await asyncio.sleep(1)
    {}["missing"]
'''


def scenario(tmp_path, apps: str, program: str = PROGRAM, module: str = "prog.py"):
    (tmp_path / "prog.py").write_text(program)
    (tmp_path / "s.yaml").write_text(f"""
name: py
until: 5s
nodes:
  a: {{kind: host, ip: 10.0.0.1/24}}
  b: {{kind: host, ip: 10.0.0.2/24}}
links:
  - {{endpoints: [a, b], delay: 5ms}}
apps:
{apps}
""")
    return load_scenario(tmp_path / "s.yaml")


def test_a_server_and_a_client_of_a_scenarios_own_module(tmp_path, socket_calls):
    result = run_scenario(scenario(tmp_path, """
  - {node: b, run: python, module: prog.py, function: server, service: true}
  - {node: a, at: 1s, run: python, module: prog.py, args: {target: b}}
"""))
    server, client = result.network.apps
    assert server.status == "serving" and server.lines == ["listening on b:7"]
    assert client.status == "finished" and client.result() == {"returned": 42}
    # ARP, the handshake and the echo: three round trips of 10 ms
    assert client.lines == ["got b'hi from a' at 1.030"]
    assert socket_calls == []
    assert "-- python on a at 1 s\ngot b'hi from a' at 1.030" in result.text()


def test_an_exception_is_the_apps_failure_with_its_traceback(tmp_path):
    result = run_scenario(scenario(tmp_path, """
  - {node: a, run: python, module: prog.py, function: broken}
  - {node: b, at: 2s, run: ping, target: a, count: 1}
"""))
    broken, ping = result.network.apps
    assert broken.status == "failed" and broken.error == "KeyError: 'missing'"
    assert broken.lines[0] == "Traceback (most recent call last):"
    assert any('prog.py", line 23, in broken' in line for line in broken.lines)
    assert broken.lines[-1] == "KeyError: 'missing'"
    assert ping.result()["received"] == 1          # everything else runs on
    notes = [n for n in result.trace.notes if n.what == "app-error"]
    assert notes[0].detail["cause"] == "program"


def test_an_unfinished_client_says_so(tmp_path):
    result = run_scenario(scenario(tmp_path, """
  - {node: a, run: python, module: prog.py, args: {target: b}}
"""))
    (client,) = result.network.apps
    assert client.status == "failed"                # refused: nobody listens on b:7
    assert client.lines[-1].startswith("ConnectionRefusedError: [Errno 111] Connect call failed")


@pytest.mark.parametrize("module, message", [
    ("../elsewhere.py", "must be in the scenario's folder or below it"),
    ("/etc/passwd.py", "must be in the scenario's folder or below it"),
    ("missing.py", "cannot read missing.py"),
    ("notes.txt", "a module is a .py file")])
def test_a_module_outside_the_folder_or_unreadable_is_a_scenario_error(tmp_path, module, message):
    (tmp_path / "prog.py").write_text(PROGRAM)
    (tmp_path / "s.yaml").write_text(f"""
name: py
nodes:
  a: {{kind: host, ip: 10.0.0.1/24}}
apps:
  - {{node: a, run: python, module: "{module}"}}
""")
    with pytest.raises(ScenarioError, match=message) as exc:
        load_scenario(tmp_path / "s.yaml")
    assert "apps[0].module" in str(exc.value)


def test_a_syntax_error_is_named_with_its_line(tmp_path):
    with pytest.raises(ScenarioError, match=r"prog.py, line 2"):
        scenario(tmp_path, "  - {node: a, run: python, module: prog.py}", "x = 1\ndef (:\n")


def test_a_missing_function_is_the_apps_failure(tmp_path):
    result = run_scenario(scenario(tmp_path, "  - {node: a, run: python, module: prog.py, "
                                             "function: nothere}"))
    (app,) = result.network.apps
    assert app.status == "failed" and "has no async def nothere" in app.error
