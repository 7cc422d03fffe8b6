"""Bounded JSON: one parser for every piece of user JSON (request bodies, uploaded files, form fields).

Deeply nested JSON costs recursion in every consumer downstream (serialisers,
canonical hashing, templates); a cap at parse time keeps that cost bounded and
turns the input into a 400 rather than a ``RecursionError`` and a 500.
"""

import json
from typing import Any

__all__ = ["MAX_JSON_DEPTH", "JSONTooDeep", "json_depth", "check_json_depth", "loads_bounded"]

MAX_JSON_DEPTH = 64


class JSONTooDeep(ValueError):
    """JSON nested deeper than allowed."""

    def __init__(self, max_depth: int = MAX_JSON_DEPTH):
        super().__init__(f"JSON nested deeper than {max_depth} levels.")
        self.max_depth = max_depth


def json_depth(value: Any, limit: int = MAX_JSON_DEPTH) -> int:
    """Nesting depth of parsed JSON (a scalar or an empty container is 1, ``[1]`` is 2).

    Walked iteratively, so the check itself cannot recurse too deep; stops counting past ``limit``.
    """
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return depth
        deepest = max(deepest, depth)
        if isinstance(node, dict):
            stack.extend((child, depth + 1) for child in node.values())
        elif isinstance(node, list | tuple):
            stack.extend((child, depth + 1) for child in node)
    return deepest


def check_json_depth(value: Any, *, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """Return ``value`` if its depth (``json_depth``) is at most ``max_depth``, else raise ``JSONTooDeep``."""
    if json_depth(value, max_depth) > max_depth:
        raise JSONTooDeep(max_depth)
    return value


def loads_bounded(data: str | bytes | bytearray, *, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """``json.loads`` that refuses nesting deeper than ``max_depth`` (``JSONTooDeep``, a ``ValueError``).

    Invalid JSON raises ``json.JSONDecodeError`` and bytes that are not UTF-8
    ``UnicodeDecodeError``, both ``ValueError`` too, so one ``except ValueError`` covers all.
    """
    try:
        value = json.loads(data)
    except RecursionError:
        raise JSONTooDeep(max_depth) from None
    return check_json_depth(value, max_depth=max_depth)
