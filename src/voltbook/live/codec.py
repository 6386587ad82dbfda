"""JSON for the dataclasses that cross between nodes: cluster-wide events and station commands.

A message names its class ("module.QualName") and carries its fields. Field values follow the
class's own annotations on the way back: datetimes travel as ISO-8601, enums as their value,
tuples and lists as arrays, dicts as objects, nested dataclasses as objects.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Iterable
from datetime import datetime
from enum import Enum
from typing import Any


class UnknownType(LookupError):
    """A message names a class this node does not know (another version, or a typo)."""


def type_name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


class DataclassCodec:
    """Encodes registered dataclasses to JSON-ready dicts and back."""

    def __init__(self, classes: Iterable[type] = ()) -> None:
        self._classes: dict[str, type] = {}
        for cls in classes:
            self.register(cls)

    def register(self, cls: type) -> None:
        if not dataclasses.is_dataclass(cls):
            raise TypeError(f"{cls.__name__} is not a dataclass")
        self._classes[type_name(cls)] = cls

    def knows(self, name: str) -> bool:
        return name in self._classes

    def encode(self, value: object) -> dict[str, Any]:
        """`{"type": name, "data": fields}`; the class must be registered."""
        name = type_name(type(value))
        if name not in self._classes:
            raise UnknownType(name)
        return {"type": name, "data": _plain(value)}

    def decode(self, message: dict[str, Any]) -> object:
        name = message.get("type")
        cls = self._classes.get(name) if isinstance(name, str) else None
        if cls is None:
            raise UnknownType(str(name))
        return _build(cls, message.get("data"))


def _plain(value: object) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple | list):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise TypeError(f"{type(value).__name__} does not travel between nodes")


def _build(cls: type, data: object) -> object:
    if not isinstance(data, dict):
        raise TypeError(f"{cls.__name__} needs an object")
    hints = typing.get_type_hints(cls)
    values = {
        f.name: _value(hints[f.name], data[f.name])
        for f in dataclasses.fields(cls)
        if f.init and f.name in data
    }
    return cls(**values)


def _value(hint: Any, raw: Any) -> Any:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if raw is None and type(None) in args:
            return None
        options = [a for a in args if a is not type(None)]
        if len(options) == 1:
            return _value(options[0], raw)
        return raw  # a union of plain types: JSON already made it right
    if origin is not None:
        return _container(origin, args, raw)
    if isinstance(hint, type):
        if issubclass(hint, datetime):
            return datetime.fromisoformat(raw)
        if issubclass(hint, Enum):
            return hint(raw)
        if dataclasses.is_dataclass(hint):
            return _build(hint, raw)
        if hint is float and isinstance(raw, int):
            return float(raw)
    return raw


def _container(origin: Any, args: tuple[Any, ...], raw: Any) -> Any:
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_value(args[0], item) for item in raw)
        if args:
            return tuple(_value(a, item) for a, item in zip(args, raw, strict=True))
        return tuple(raw)
    if origin is list:
        return [_value(args[0], item) for item in raw] if args else list(raw)
    if origin is dict:
        return {key: _value(args[1], item) for key, item in raw.items()} if args else dict(raw)
    return raw
