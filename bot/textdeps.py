"""What a template's text depends on, read from its source, so a text rendered once can be
reused for the same inputs (most replies read the step and the phase, not the voter).

A template's needs are the free names of it and of every template it extends, includes or
imports, with the keys read of each (`data.numen_seen`, `profile["first_name"]`) when a name
is only ever read that way. Any other use of a name (passed to a macro, looped over, tested)
needs it whole. A template reading `now` itself, or naming a template only known at render
time, is never reused. `key` turns the values a template needs into a dictionary key, or None
when one of them is not plain data (then the text is rendered each time).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from enum import Enum
from typing import Any

from jinja2 import Environment, meta, nodes

VOLATILE = "now"  # the instant itself: a text reading it is never reused
_DICT_METHODS = frozenset(dir(dict))


@dataclass(frozen=True)
class Needs:
    """The inputs of a template's text: names read whole, and names read key by key."""

    whole: frozenset[str]
    keyed: tuple[tuple[str, frozenset[str]], ...]


class _Unfit(Exception):
    """A value that is not plain data: the text is not reused."""


def needs(env: Environment, name: str) -> Needs | None:
    """What a template's text depends on; None if it cannot be reused at all."""
    whole: set[str] = set()
    keys: dict[str, set[str]] = {}
    for tree in _closure(env, name):
        if tree is None:
            return None
        free = meta.find_undeclared_variables(tree)
        if VOLATILE in free:
            return None
        stored = {n.name for n in tree.find_all(nodes.Name) if n.ctx != "load"}
        for var, key in _reads(tree):
            if var not in free:
                continue
            if key is None or var in stored:
                whole.add(var)
            else:
                keys.setdefault(var, set()).add(key)
    keyed = tuple(sorted((var, frozenset(k)) for var, k in keys.items() if var not in whole))
    return Needs(frozenset(whole), keyed)


def _closure(env: Environment, name: str) -> Iterator[nodes.Template | None]:
    """The parsed source of a template and of every template it uses (None: unknown)."""
    seen: set[str] = set()
    todo = [name]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        assert env.loader is not None
        tree = env.parse(env.loader.get_source(env, current)[0])
        yield tree
        for used in meta.find_referenced_templates(tree):
            if used is None:
                yield None
                return
            todo.append(used)


def _reads(tree: nodes.Node) -> Iterator[tuple[str, str | None]]:
    """Each read of a name: (name, key) when read as `name.key` or `name["key"]`, else
    (name, None)."""
    for parent in tree.find_all(nodes.Node):
        for child in parent.iter_child_nodes():
            if not isinstance(child, nodes.Name) or child.ctx != "load":
                continue
            yield child.name, _key_of(parent, child)


def _key_of(parent: nodes.Node, name: nodes.Name) -> str | None:
    """The key a read takes from a name, if that is all the read does with it."""
    if isinstance(parent, nodes.Getattr) and parent.node is name:
        return None if parent.attr in _DICT_METHODS else parent.attr
    if (
        isinstance(parent, nodes.Getitem)
        and parent.node is name
        and isinstance(parent.arg, nodes.Const)
        and isinstance(parent.arg.value, str)
    ):
        return parent.arg.value
    return None


_MISSING = ("missing",)


def key(
    needs: Needs, ctx: Mapping[str, Any], ambient: Mapping[str, Any]
) -> tuple[Any, ...] | None:
    """The values a template needs from `ctx`, as a dictionary key; None if one is not plain
    data. Names whose value is the renderer's own (`ambient`: the election, the directory…,
    cleared from the cache when they change) are left out."""
    parts: list[Any] = []
    try:
        for var in sorted(needs.whole):
            value = ctx.get(var, _MISSING)
            if var in ambient and value is ambient[var]:
                continue
            parts.append(freeze(value))
        for var, keys in needs.keyed:
            value = ctx.get(var, _MISSING)
            if var in ambient and value is ambient[var]:
                continue
            if not isinstance(value, Mapping):
                parts.append(freeze(value))
                continue
            parts.extend(freeze(value.get(k, _MISSING)) for k in sorted(keys))
    except _Unfit:
        return None
    return tuple(parts)


def freeze(value: Any) -> Any:
    """A hashable form of plain data that tells apart what renders differently (1, True, "1",
    a Markup string, the same instant in two time zones)."""
    kind = type(value)
    if kind is str or value is _MISSING:
        return value
    if isinstance(value, str):  # Markup is not escaped again: not the same as its text
        return (kind.__name__, str(value))
    if value is None or kind in (int, float, bool) or isinstance(value, Enum):
        return (kind.__name__, value)
    if isinstance(value, date):  # datetimes too
        return (kind.__name__, value.isoformat(), str(getattr(value, "tzinfo", None)))
    if isinstance(value, Mapping):
        try:
            return ("map", tuple(sorted((k, freeze(v)) for k, v in value.items())))
        except TypeError as exc:  # keys that do not sort
            raise _Unfit from exc
    if kind in (list, tuple):
        return (kind.__name__, tuple(freeze(v) for v in value))
    if kind in (set, frozenset):
        return ("set", frozenset(freeze(v) for v in value))
    raise _Unfit
