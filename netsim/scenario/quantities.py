"""Quantities in a scenario, parsed where the schema says they are.

Which keys are durations, rates, sizes or fractions is written once: in the JSON
Schema (``$ref: '#/$defs/time'`` …), including each application's ``SCHEMA``.
Validation and building both read it from there.
"""

from __future__ import annotations

from netsim.units import parse_fraction, parse_interval, parse_rate, parse_size, parse_time

_BY_REF = {"#/$defs/time": parse_time, "#/$defs/interval": parse_interval, "#/$defs/rate": parse_rate,
           "#/$defs/size": parse_size, "#/$defs/fraction": parse_fraction}


def parsers_for(properties: dict) -> dict:
    """Key → parser for the schema properties that are quantities."""
    found = {}
    for key, schema in properties.items():
        parse = _BY_REF.get(schema.get("$ref", "")) if isinstance(schema, dict) else None
        if parse is not None:
            found[key] = parse
    return found


def parse_quantities(mapping: dict, properties: dict) -> dict:
    """``mapping`` with its quantities parsed; ValueError names the first bad key."""
    parsed = dict(mapping)
    for key, parse in parsers_for(properties).items():
        if key in parsed:
            try:
                parsed[key] = parse(parsed[key])
            except ValueError as exc:
                raise QuantityError(key, str(exc)) from None
    return parsed


class QuantityError(ValueError):
    def __init__(self, key: str, message: str) -> None:
        self.key = key
        super().__init__(message)


def app_properties(run: str) -> dict:
    from netsim.apps import APPS
    return {"at": {"$ref": "#/$defs/time"}, **APPS[run].SCHEMA}
