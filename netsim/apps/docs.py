"""``netsim apps``: every application's keys, defaults and an example, from the same
schema the scenario validator checks, so the documentation cannot drift from it."""

from __future__ import annotations

import json

from netsim.apps import APPS

_KINDS = {"#/$defs/time": "duration", "#/$defs/interval": "duration > 0", "#/$defs/rate": "rate", "#/$defs/size": "size",
          "#/$defs/fraction": "fraction", "#/$defs/ipv4": "IPv4 address"}
_COMMON = {"node": "the node it runs on (required)",
           "at": "when it starts (default 0s)"}


def _kind(schema: dict) -> str:
    if "$ref" in schema:
        return _KINDS.get(schema["$ref"], schema["$ref"].rsplit("/", 1)[-1])
    kind = schema.get("type", "value")
    if kind == "integer" and ("minimum" in schema or "maximum" in schema):
        return f"integer {schema.get('minimum', '')}–{schema.get('maximum', '')}".replace("– ", "–")
    return {"object": "mapping", "string": "text", "boolean": "true/false"}.get(kind, kind)


def _flow(value) -> str:
    """A YAML flow value as people write it: bare words where YAML allows them."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, str) and value and all(c.isalnum() or c in "-._/" for c in value):
        return value
    return json.dumps(value)


def describe_app(name: str) -> str:
    cls = APPS[name]
    doc = (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else ""
    lines = [f"{name}: {doc.replace('``', '')}".rstrip()]
    width = max([len(k) for k in cls.SCHEMA] + [4])
    for key, text in _COMMON.items():
        lines.append(f"  {key:<{width}}  {text}")
    for key, schema in cls.SCHEMA.items():
        required = " (required)" if key in cls.REQUIRED else ""
        default = f" (default {schema['default']})" if "default" in schema else ""
        text = schema.get("description", "")
        lines.append(f"  {key:<{width}}  {_kind(schema)}{required}{default}: {text}".rstrip(": "))
    example = getattr(cls, "EXAMPLE", None)
    if example:
        lines.append(f"  example:  - {_flow(example)}")
    return "\n".join(lines)


def describe_apps(name: str | None = None) -> str:
    """All applications' documentation, or one's; KeyError names the unknown one."""
    if name is not None:
        if name not in APPS:
            import difflib
            hint = difflib.get_close_matches(name, list(APPS), n=1)
            raise KeyError(f"no application {name!r}" + (f"; did you mean {hint[0]}?" if hint else
                                                           f" (one of: {', '.join(sorted(APPS))})"))
        return describe_app(name)
    return "\n\n".join(describe_app(n) for n in sorted(APPS))
