"""A JSON REST API, with no I/O: the shapes REST design guides recommend — plural nouns in
the URL (``/v1/users``, ``/v1/users/6``), sub-resources (``/v1/users/6/cars/88``), the
version in the path, methods as the verbs, JSON bodies, and no 200 for an error.

RFC 9110 semantics for each method: GET reads; POST to a collection creates (``201
Created`` with ``Location``, RFC 9110 §15.3.2); PUT replaces (200, or 201 if it created);
PATCH merges (RFC 7396 JSON merge patch); DELETE removes (``204 No Content``). A path
that names nothing is 404; a method a path does not take is 405 with ``Allow``; a POST
with an ``id`` already taken is 409; a body that is not a JSON object, or lacks a field
every item of the collection has, is 422. Errors are JSON too (``{"error": …}``).

A client's body is read as a careful JSON API reads one, so no body can break the
service or the state it keeps: at most ``MAX_DEPTH`` levels deep, counting where the
item goes (System.Text.Json's default; a deeper body would exhaust the stack when it
is parsed, merged or written out), no NaN or Infinity (not JSON, RFC 8259 §6), an
``id`` that is a number or a string, and a list in an item only as a sub-collection
of items — the same rule as a scenario's data. Each is 422 otherwise. Path segments
are percent-decoded and ids percent-encoded in ``Location`` (RFC 3986 §2.1).
"""

from __future__ import annotations

import json
import math
import re
from urllib.parse import quote, unquote

from netsim.proto.http.site import Answer, http_date

COLLECTION_METHODS = ("GET", "HEAD", "POST")
ITEM_METHODS = ("GET", "HEAD", "PUT", "PATCH", "DELETE")
#: System.Text.Json's default ``MaxDepth``: how deep the data may nest, from the root.
MAX_DEPTH = 64


class BadBody(ValueError):
    """A request body this API will not take (422), with the reason for the client."""


class RestApi:
    def __init__(self, data: dict, *, version: str = "v1") -> None:
        #: collection name → list of items (dicts with an "id"); items may hold
        #: sub-collections as lists of dicts.
        self.data = json.loads(json.dumps(data))         # our own copy, JSON types only
        self.version = version
        self.changes = 0

    # -- the handler interface the HTTP server calls -----------------------------------------

    def respond(self, method: str, target: str, headers: dict[str, str], now: float,
                body: bytes = b"") -> Answer:
        date = ("Date", http_date(now))
        path = [unquote(part) for part in target.split("?", 1)[0].strip("/").split("/")]
        if not path or path[0] != self.version:
            return _json(404, {"error": f"no API at /{'/'.join(path)}; this is /{self.version}"}, date)
        found = self._walk(path[1:])
        if isinstance(found, str):
            return _json(404, {"error": found}, date)
        parent, name, item = found
        collection = parent[name]
        allowed = ITEM_METHODS if item is not None else COLLECTION_METHODS
        if method not in allowed:
            return Answer(405, [date, ("Content-Type", "application/json"),
                                ("Allow", ", ".join(allowed))],
                          _dump({"error": f"{method} is not allowed on {target}"}))
        if method in ("GET", "HEAD"):
            return _json(200, item if item is not None else collection, date)
        if method == "DELETE":
            collection.remove(item)
            self.changes += 1
            return Answer(204, [date], b"")
        try:
            sent = _object(body, room=MAX_DEPTH - len(path))
        except BadBody as exc:
            return _json(422, {"error": str(exc)}, date)
        if method == "POST":
            return self._create(collection, sent, target, date)
        # PATCH merges into the item (RFC 7396); PUT replaces it, keeping its id.
        new = _merge(dict(item), sent) if method == "PATCH" else dict(sent, id=item["id"])
        missing = _missing(collection, new)
        if missing:
            return _json(422, {"error": f"missing field(s): {', '.join(missing)}"}, date)
        item.clear()
        item.update(new)
        self.changes += 1
        return _json(200, item, date)

    def _create(self, collection: list, sent: dict, target: str, date) -> Answer:
        if "id" in sent and any(i.get("id") == sent["id"] for i in collection):
            return _json(409, {"error": f"id {sent['id']} exists already"}, date)
        missing = _missing(collection, sent)
        if missing:
            return _json(422, {"error": f"missing field(s): {', '.join(missing)}"}, date)
        new_id = sent.get("id", max((i.get("id", 0) for i in collection
                                     if isinstance(i.get("id"), int)), default=0) + 1)
        item = {"id": new_id, **sent}
        for key in _sub_collections(collection):
            item.setdefault(key, [])            # a new user has no cars yet, but may get some
        collection.append(item)
        self.changes += 1
        where = target.split("?", 1)[0].rstrip("/") + "/" + quote(str(item["id"]), safe="")
        answer = _json(201, item, date)
        return Answer(201, answer.headers + [("Location", where)], answer.body)

    def _walk(self, parts: list[str]):
        """``users/6/cars`` → (the dict holding "cars", "cars", None); ``users/6`` →
        (root, "users", the item). A string says what was not found."""
        holder, i = self.data, 0
        if not parts or parts == [""]:
            return "name a collection: " + ", ".join(f"/{self.version}/{k}" for k in self.data)
        while True:
            name = parts[i]
            if not isinstance(holder.get(name), list):
                return f"no collection {name!r} here"
            if i + 1 == len(parts):
                return holder, name, None
            key = parts[i + 1]
            item = next((x for x in holder[name] if str(x.get("id")) == key), None)
            if item is None:
                return f"no {name[:-1] if name.endswith('s') else name} with id {key}"
            if i + 2 == len(parts):
                return holder, name, item
            holder, i = item, i + 2


def _missing(collection: list, item: dict) -> list[str]:
    """Fields every other item of the collection has (sub-collections aside) that ``item`` lacks."""
    others = [x for x in collection if x is not item]
    if not others:
        return []
    common = set.intersection(*({k for k, v in x.items() if not isinstance(v, list)}
                                for x in others)) - {"id"}
    return sorted(common - set(item))


def _sub_collections(collection: list) -> set[str]:
    """Names every item holds a list under (``cars`` of each user)."""
    if not collection:
        return set()
    return set.intersection(*({k for k, v in x.items() if isinstance(v, list)} for x in collection))


def _merge(target: dict, patch: dict) -> dict:
    """RFC 7396: null removes a member, objects merge, anything else replaces."""
    for key, value in patch.items():
        if key == "id":
            continue
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict) and isinstance(target.get(key), dict):
            target[key] = _merge(dict(target[key]), value)
        else:
            target[key] = value
    return target


def _object(body: bytes, *, room: int) -> dict:
    """A client's body → the item it sends, or :class:`BadBody`; ``room``: how many
    levels the item may nest where it goes."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadBody("the body must be a JSON object") from None
    if _deeper_than(text, room):
        raise BadBody(f"the body nests deeper than this API takes ({MAX_DEPTH} levels "
                      "from the root)")
    try:
        value = json.loads(text, parse_constant=_not_json, parse_float=_finite)
    except ValueError:                      # JSONDecodeError, NaN/Infinity, a 5,000-digit int
        raise BadBody("the body must be a JSON object") from None
    if not isinstance(value, dict):
        raise BadBody("the body must be a JSON object")
    _check_item(value)
    return value


#: A JSON string (to its end, if it has none, so the scan never backtracks) or a bracket.
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"?|[\[\]{}]', re.S)


def _deeper_than(text: str, limit: int) -> bool:
    """Whether the JSON text nests more than ``limit`` arrays and objects, brackets in
    strings aside — checked before parsing, since the parser itself recurses."""
    if text.count("[") + text.count("{") <= limit:
        return False
    depth = 0
    for token in _TOKEN.finditer(text):
        mark = token.group()
        if mark in ("[", "{"):
            depth += 1
            if depth > limit:
                return True
        elif mark in ("]", "}"):
            depth -= 1
    return False


def _not_json(name: str):
    raise ValueError(f"{name} is not JSON")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is too large for a number")
    return value


def _check_item(item: dict) -> None:
    """The scenario data's rule for a sent item: an ``id`` is a number or a string, and
    a list holds items (a sub-collection), to every depth."""
    if "id" in item:
        ident = item["id"]
        if isinstance(ident, bool) or not isinstance(ident, (int, float, str)):
            raise BadBody("an id must be a number or a string")
    for key, value in item.items():
        if isinstance(value, list):
            for sub in value:
                if not isinstance(sub, dict):
                    raise BadBody(f"{key} must be a list of objects (a sub-collection)")
                _check_item(sub)


def _dump(value) -> bytes:
    return (json.dumps(value, ensure_ascii=False, separators=(",", ":")) + "\n").encode()


def _json(status: int, value, date) -> Answer:
    return Answer(status, [date, ("Content-Type", "application/json")], _dump(value))
