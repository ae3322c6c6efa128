"""YAML loaded with the line of every key and item, so errors can point into the file."""

from __future__ import annotations

import yaml

from netsim.errors import ScenarioError


def load_with_lines(text: str, source: str) -> tuple[object, dict[tuple, int]]:
    """The document as plain Python data, and a map from key path tuples to 1-based lines.

    A path is a tuple of keys and indices: ``("links", 2, "endpoints", 1)``.
    """
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        opened = getattr(exc, "context_mark", None)
        context = getattr(exc, "context", None) or ""
        if opened is not None and "flow" in context and line is not None and opened.line + 1 < line:
            # An unclosed '{' or '[': PyYAML notices on a later line, the mistake is where
            # the bracket opened.
            bracket = "{" if "mapping" in context else "["
            closer = "}" if bracket == "{" else "]"
            problem = (f"the '{bracket}' opened here is not closed with '{closer}' before line "
                       f"{line} ({problem})")
            line = opened.line + 1
        raise ScenarioError(f"not valid YAML: {problem}", line=line, source=source) from None
    lines: dict[tuple, int] = {}
    if root is None:
        return None, lines
    return _convert(root, (), lines, source), lines


def _convert(node, path: tuple, lines: dict, source: str):
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        result = {}
        for key_node, value_node in node.value:
            key = _scalar(key_node)
            if not isinstance(key, (str, int)):
                raise ScenarioError(f"a key must be a name, got {key!r}", path=_fmt(path),
                                    line=key_node.start_mark.line + 1, source=source)
            if key in result:
                raise ScenarioError(f"key {key!r} appears twice", path=_fmt(path + (key,)),
                                    line=key_node.start_mark.line + 1, source=source)
            lines[path + (key,)] = key_node.start_mark.line + 1
            result[key] = _convert(value_node, path + (key,), lines, source)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_convert(item, path + (k,), lines, source) for k, item in enumerate(node.value)]
    return _scalar(node)


def _scalar(node):
    # A fresh constructor per value: SafeLoader caches what it built by node identity.
    return yaml.SafeLoader("").construct_object(node, deep=True)


def _fmt(path: tuple) -> str:
    from netsim.scenario.paths import format_path
    return format_path(path)
