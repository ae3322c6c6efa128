"""``netsim apps``: every application's keys, defaults and an example, from the same
schema the scenario validator checks, so the documentation cannot drift from it."""

from __future__ import annotations

import json
import re

from netsim.apps import APPS

_KINDS = {"#/$defs/header_value": "text", "#/$defs/url_ref": "path or URL", "#/$defs/token": "word",
          "#/$defs/time": "duration", "#/$defs/interval": "duration > 0", "#/$defs/rate": "rate", "#/$defs/size": "size",
          "#/$defs/fraction": "fraction", "#/$defs/ipv4": "IPv4 address"}
_COMMON = {"node": "the node it runs on (required)",
           "at": "when it starts (default 0s)"}


def _kind(schema: dict) -> str:
    if "enum" in schema:
        return "one of " + ", ".join(map(str, schema["enum"]))
    if schema.get("type") == "array":
        return "list"
    if "anyOf" in schema or "oneOf" in schema:
        return " or ".join(dict.fromkeys(_kind(o) for o in schema.get("anyOf", schema.get("oneOf"))))
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


def _summary(doc: str | None) -> str:
    """The docstring's first sentence, however many lines it runs over."""
    paragraph = " ".join((doc or "").strip().split("\n\n")[0].split())
    match = re.search(r"^(.+?[.!?])(\s|$)", paragraph)
    return (match.group(1) if match else paragraph).replace("``", "")


def _nested(schema: dict, indent: str, seen: int = 0) -> list[str]:
    """The keys inside a mapping- or list-valued key (an http-server resource's
    ``cache_control``, ``etag``, ``embeds``), each with its kind and description, as
    deep as they go: what a user writes there is checked by the same schema."""
    if seen > 4:
        return []
    lines: list[str] = []
    if "additionalProperties" in schema and isinstance(schema["additionalProperties"], dict):
        inner = schema["additionalProperties"]
        name = schema.get("x-key", "NAME")
        if inner.get("properties") or inner.get("additionalProperties"):
            lines.append(f"{indent}{name}:")
            lines += _nested(inner, indent + "  ", seen + 1)
    if isinstance(schema.get("items"), dict):
        lines += _nested(schema["items"], indent, seen + 1)
    for option in schema.get("anyOf", []) + schema.get("oneOf", []):
        lines += _nested(option, indent, seen + 1)
    properties = schema.get("properties", {})
    width = max([len(k) for k in properties] + [4])
    for key, inner in properties.items():
        text = inner.get("description", "")
        default = f" (default {inner['default']})" if "default" in inner else ""
        lines.append(f"{indent}{key:<{width}}  {_kind(inner)}{default}: {text}".rstrip(": "))
        lines += _nested(inner, indent + "    ", seen + 1)
    return lines


def describe_app(name: str) -> str:
    cls = APPS[name]
    lines = [f"{name}: {_summary(cls.__doc__)}".rstrip()]
    width = max([len(k) for k in cls.SCHEMA] + [4])
    for key, text in _COMMON.items():
        lines.append(f"  {key:<{width}}  {text}")
    for key, schema in cls.SCHEMA.items():
        required = " (required)" if key in cls.REQUIRED else ""
        default = f" (default {schema['default']})" if "default" in schema else ""
        text = schema.get("description", "")
        lines.append(f"  {key:<{width}}  {_kind(schema)}{required}{default}: {text}".rstrip(": "))
        lines += _nested(schema, "      ")
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
