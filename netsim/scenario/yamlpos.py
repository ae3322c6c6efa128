"""YAML loaded with the line of every key and item, so errors can point into the file.

Merge keys (``<<: *profile``, YAML 1.1) work as people use them for link profiles.
Aliases are followed, but an alias that contains itself is refused, and so is a
document that aliases expand beyond :data:`MAX_VALUES` values (the "billion laughs"
file of seven lines): both are located errors, found in well under a second.
"""

from __future__ import annotations

import yaml

from netsim.errors import ScenarioError

#: The most values (mappings, lists, scalars) a scenario may expand to.
MAX_VALUES = 200_000
_MERGE_TAG = "tag:yaml.org,2002:merge"


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
    converter = _Converter(source, lines)
    converter.measure(root)
    return converter.convert(root, ()), lines


class _Converter:
    def __init__(self, source: str, lines: dict) -> None:
        self.source = source
        self.lines = lines
        self.count = 0
        self.open: set[int] = set()       # nodes being converted: an alias back to one is a loop

    def measure(self, root) -> None:
        """Refuse a document whose aliases loop or expand past :data:`MAX_VALUES`, by
        counting each distinct node once (aliases share nodes) — before expanding."""
        sizes: dict[int, int] = {}
        walking: set[int] = set()

        def size(node) -> int:
            known = sizes.get(id(node))
            if known is not None:
                return known
            if id(node) in walking:
                raise self.error("an alias refers to a value that contains it: it would "
                                 "never end", (), node)
            total = 1
            if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)):
                walking.add(id(node))
                children = (v for pair in node.value for v in pair) \
                    if isinstance(node, yaml.MappingNode) else node.value
                for child in children:
                    total += size(child)
                    if total > MAX_VALUES:
                        raise self.error(f"the file expands to more than {MAX_VALUES:,} values "
                                         "(aliases repeating aliases?); netsim refuses to build "
                                         "it", (), node)
                walking.discard(id(node))
            sizes[id(node)] = total
            return total

        size(root)

    def error(self, message: str, path: tuple, node) -> ScenarioError:
        from netsim.scenario.paths import format_path
        return ScenarioError(message, path=format_path(path) if path else "",
                             line=node.start_mark.line + 1, source=self.source)

    def convert(self, node, path: tuple):
        self.count += 1
        if self.count > MAX_VALUES:
            raise self.error(f"the file expands to more than {MAX_VALUES:,} values (aliases "
                             "repeating aliases?); netsim refuses to build it", path, node)
        if id(node) in self.open:
            raise self.error("an alias refers to a value that contains it: it would never end",
                             path, node)
        self.lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            self.open.add(id(node))
            try:
                return self._mapping(node, path)
            finally:
                self.open.discard(id(node))
        if isinstance(node, yaml.SequenceNode):
            self.open.add(id(node))
            try:
                return [self.convert(item, path + (k,)) for k, item in enumerate(node.value)]
            finally:
                self.open.discard(id(node))
        return _scalar(node)

    def _mapping(self, node, path: tuple) -> dict:
        result: dict = {}
        merged: dict = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                # ``<<: *a`` or ``<<: [*a, *b]``: keys written here win, then earlier sources.
                sources = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
                for source in sources:
                    if not isinstance(source, yaml.MappingNode):
                        raise self.error("'<<' merges mappings only", path, key_node)
                    for key, value in self.convert(source, path).items():
                        merged.setdefault(key, value)
                continue
            key = _scalar(key_node)
            if not isinstance(key, (str, int)):
                raise self.error(f"a key must be a name, got {key!r}", path, key_node)
            if key in result:
                raise self.error(f"key {key!r} appears twice", path + (key,), key_node)
            self.lines[path + (key,)] = key_node.start_mark.line + 1
            result[key] = self.convert(value_node, path + (key,))
        for key, value in merged.items():
            result.setdefault(key, value)
        return result


def _scalar(node):
    # A fresh constructor per value: SafeLoader caches what it built by node identity.
    if not isinstance(node, yaml.ScalarNode):
        raise ScenarioError(f"a key must be a name, not a {node.id}", line=node.start_mark.line + 1)
    return yaml.SafeLoader("").construct_object(node, deep=True)
