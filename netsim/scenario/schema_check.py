"""A scenario against the JSON Schema (``schema.py``), and the first violation, in file
order, explained as a person would: ``links[1].rate: 'fast' is not a rate such as
'100Mbps'`` — the key path, the value, what was expected, a "did you mean" when a name
is close to a known one.

The validator is Draft 2020-12 with two changes that make it say what the code reading
the scenario needs: ``$`` in a pattern is the end of the string, and an integer is one
as YAML wrote it.
"""

from __future__ import annotations

import difflib
import re

import jsonschema

from netsim.scenario.paths import line_of
from netsim.scenario.schema import DEFS, scenario_schema


def _pattern_to_the_end(validator, pattern: str, instance, schema):
    """JSON Schema's ``pattern``, with ``$`` meaning the end of the string. Python's ``$``
    also matches before a final newline, which let 'text/html\\n' pass for a header value
    (the schema keeps ``$`` for editors, whose ECMAScript regexes read it as we do here)."""
    if not isinstance(instance, str):
        return
    if pattern.endswith("$") and not pattern.endswith("\\$"):
        pattern = pattern[:-1] + r"\Z"
    if re.search(pattern, instance) is None:
        yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


# JSON Schema counts 1e300 and 3.0 as integers (a number with no fraction); the code
# that reads a count or a size wants an int, so here an integer is one as YAML wrote it.
_TYPES = jsonschema.Draft202012Validator.TYPE_CHECKER.redefine(
    "integer", lambda _checker, value: isinstance(value, int) and not isinstance(value, bool))
_Validator = jsonschema.validators.extend(jsonschema.Draft202012Validator,
                                          {"pattern": _pattern_to_the_end}, type_checker=_TYPES)


def check_schema(scenario, schema: dict | None = None) -> None:
    """Raise the scenario's error for the first schema violation in file order
    (against ``schema``, default the scenario schema: a file of expectations is checked
    against its own)."""
    validator = _Validator(schema or scenario_schema())
    errors = list(validator.iter_errors(scenario.data))
    if not errors:
        return
    leaves = [_deepest(e) for e in errors]
    leaves.sort(key=lambda e: (line_of(scenario.lines, _error_path(e)) or 0, len(e.absolute_path)))
    first = leaves[0]
    raise scenario.error(_error_path(first), _explain(first, scenario))


def _deepest(error):
    """Inside anyOf/allOf, the sub-error that got furthest explains best."""
    while error.context:
        error = max(error.context, key=lambda e: (len(e.absolute_path), e.validator != "type"))
    return error


def _error_path(error) -> tuple:
    path = tuple(error.absolute_path)
    if "propertyNames" in error.schema_path and isinstance(error.instance, str):
        return path + (error.instance,)           # the bad name itself, on its own line
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = set(error.schema.get("properties", {}))
        extra = [k for k in error.instance if k not in allowed]
        if extra:
            path += (extra[0],)
    return path


def _explain(error, scenario) -> str:
    v, value = error.validator, error.instance
    if v == "required":
        missing = [k for k in error.validator_value if k not in (value or {})]
        return f"missing required key {missing[0]!r}"
    if v == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        extra = [k for k in value if k not in allowed]
        hint = difflib.get_close_matches(str(extra[0]), allowed, n=1)
        hint_text = f"; did you mean {hint[0]!r}?" if hint else ""
        return f"unknown key {extra[0]!r}{hint_text} (expected one of: {', '.join(allowed)})"
    if v == "enum":
        if isinstance(value, (int, float)) and not isinstance(value, bool) and \
                str(value) in [x for x in error.validator_value if isinstance(x, str)]:
            # YAML read ``version: 1.0`` as a number; the choices are strings.
            return f"{value!r} is read as a number here: write it in quotes, \"{value}\""
        hint = difflib.get_close_matches(str(value), [str(x) for x in error.validator_value], n=1)
        hint_text = f"; did you mean {hint[0]!r}?" if hint else ""
        return (f"{value!r} is not one of {', '.join(map(str, error.validator_value))}{hint_text}")
    if v == "pattern" and "propertyNames" in error.schema_path:
        hint = "; is a ':' missing after the name?" if any(c in value for c in " {[") else ""
        return f"{value!r} is not a valid name (letters, digits, '_', '.', '-'){hint}"
    if v == "pattern":
        kind = _described_kind(error)
        return f"{value!r} is not {kind}" if kind else f"{value!r} is not in the expected form"
    if v == "type":
        expected = error.validator_value
        kind = _described_kind(error)
        return f"expected {kind or expected}, got {_yaml_kind(value)}"
    if v in ("minimum", "maximum", "exclusiveMinimum", "minItems", "maxItems", "minProperties",
             "minLength"):
        hint = ""
        if v == "maximum" and error.validator_value == 1 and isinstance(value, (int, float)) \
                and 1 < value <= 100:
            # loss: 2 — a bare number is a fraction of one; the author meant a percentage.
            hint = f"; did you mean '{value:g}%'? (a bare number is a fraction: 0.02 is 2%)"
        return f"{value!r} is out of range ({v} {error.validator_value}){hint}"
    if v == "const":
        return f"expected {error.validator_value!r}, got {value!r}"
    return error.message


def _yaml_kind(value) -> str:
    """How the scenario's author wrote it: 'null', not 'NoneType None'."""
    if value is None:
        return "null (an empty value)"
    names = {bool: "boolean", int: "integer", float: "number", str: "string", list: "list",
             dict: "mapping"}
    return f"{names.get(type(value), type(value).__name__)} {value!r}"


def _described_kind(error) -> str | None:
    """'a rate such as 100Mbps', from the $defs entry the failing schema sits in."""
    path = tuple(error.schema_path)
    for name, text in (("rate", "a rate such as '100Mbps'"), ("time", "a duration such as '2ms'"),
                       ("interval", "a duration longer than zero, such as '1s'"),
                       ("size", "a size such as '64KiB'"), ("fraction", "a fraction such as '1%'"),
                       ("cidr", "an address/prefix such as '10.0.1.10/24'"),
                       ("ipv4", "an IPv4 address such as '10.0.1.1'")):
        if name in path or error.schema.get("pattern", "") == _pattern_of(name):
            return text
    if "endpoints" in error.absolute_path:
        return "an endpoint such as 'r1:eth0' or 'r1'"
    for schema in DEFS.values():          # the wire's kinds: 'an http:// URL: …'
        if "pattern" in schema and schema["pattern"] == error.schema.get("pattern"):
            return schema["description"]
    return None


def _pattern_of(name: str) -> str:
    schema = DEFS[name]
    for option in schema.get("anyOf", [schema]):
        if "pattern" in option:
            return option["pattern"]
    return ""
