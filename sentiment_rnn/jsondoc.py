"""JSON the tool did not write: parsed with a nesting-depth cap, checked against a small schema before use.

:func:`loads` is the one JSON parser for such documents (a model directory's
files through ``safe_read``, JSON Lines data, the server's requests): a
document nested deeper than :data:`MAX_DEPTH` levels is refused before the
parser recurses into it. A :class:`Schema` then says, in one phrase naming
the field, what is wrong with a parsed value (``data.rows is a string,
expected an integer``), so that no code ever uses a field of the wrong type.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

MAX_DEPTH = 64  # nesting levels a JSON document the tool reads may have (its own files use 4)


def reason(exc: ValueError) -> str:
    """What :func:`loads` found wrong, for a message: the parser's words, the depth, or a number too long."""
    if "integer string conversion" in str(exc):
        return "a number of over 4,300 digits"
    return str(exc)


_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)


def json_depth(text: str) -> int:
    """The deepest nesting of arrays and objects in a JSON text (strings skipped); 0 for a scalar.

    Cheap when there are few brackets (they are counted first); otherwise the
    strings are cut out and the depth is a running sum over the brackets left.
    """
    brackets = text.count("[") + text.count("{")
    if brackets <= MAX_DEPTH:
        return brackets
    import numpy as np

    bare = _STRINGS.sub("", text).encode("utf-8", "surrogatepass")
    codes = np.frombuffer(bare, dtype=np.uint8)
    steps = (codes == ord("[")).astype(np.int64) + (codes == ord("{"))
    steps -= (codes == ord("]")).astype(np.int64) + (codes == ord("}"))
    return int(np.cumsum(steps).max(initial=0))


class JSONTooDeep(ValueError):
    """A JSON document nested deeper than :data:`MAX_DEPTH`."""

    def __init__(self, depth: int | None = None):
        super().__init__(f"nested deeper than {MAX_DEPTH} levels")


def loads(text: str | bytes, max_depth: int = MAX_DEPTH) -> Any:
    """``json.loads`` with a nesting-depth cap: the one JSON parser for documents the tool did not write.

    NaN and Infinity are accepted as Python's ``json`` writes them (``metrics.json`` may hold NaN); a
    number too long to convert is refused.

    Raises:
        ValueError: not JSON (a ``json.JSONDecodeError``), or nested deeper than ``max_depth`` (:class:`JSONTooDeep`).
    """
    if isinstance(text, bytes | bytearray):
        text = text.decode("utf-8")
    if json_depth(text) > max_depth:
        raise JSONTooDeep()
    try:
        return json.loads(text)
    except RecursionError:
        raise JSONTooDeep() from None


class Schema:
    """A check of a parsed JSON value; :meth:`problem` says what is wrong with one, or None."""

    def problem(self, value: Any, where: str = "the document") -> str | None:
        raise NotImplementedError


def json_type(value: Any) -> str:
    """The JSON name of a parsed value's type: ``string``, ``number``, ``list``, ``object``, ``boolean``, ``null``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "an object"


@dataclass(frozen=True)
class Scalar(Schema):
    """A string, an integer, a (finite, unless ``finite`` is False) number, or a boolean, in a range."""

    type: str  # "string", "integer", "number", "boolean"
    low: float | None = None
    high: float | None = None
    finite: bool = True

    def problem(self, value: Any, where: str = "the document") -> str | None:
        checks = {
            "string": isinstance(value, str),
            "integer": isinstance(value, int) and not isinstance(value, bool),
            "number": isinstance(value, int | float) and not isinstance(value, bool),
            "boolean": isinstance(value, bool),
        }
        if not checks[self.type]:
            return f"{where} is {json_type(value)}, expected {'an' if self.type == 'integer' else 'a'} {self.type}"
        if self.type in ("integer", "number"):
            if self.type == "number" and self.finite and not math.isfinite(value):
                return f"{where} is {value}, expected a finite number"
            if (self.low is not None and value < self.low) or (self.high is not None and value > self.high):
                return f"{where} is {value}, outside [{self.low}, {self.high}]"
        return None


STRING, INTEGER, BOOLEAN = Scalar("string"), Scalar("integer", 0, 2**63 - 1), Scalar("boolean")
NUMBER = Scalar("number")
ANY_NUMBER = Scalar("number", finite=False)  # metrics may be NaN (an AUC on one class)


@dataclass(frozen=True)
class Nullable(Schema):
    """``null`` or what ``schema`` accepts."""

    schema: Schema

    def problem(self, value: Any, where: str = "the document") -> str | None:
        return None if value is None else self.schema.problem(value, where)


@dataclass(frozen=True)
class OneOf(Schema):
    """What one of ``schemas`` accepts (the first one's complaint when none does)."""

    schemas: tuple[Schema, ...]

    def problem(self, value: Any, where: str = "the document") -> str | None:
        problems = [schema.problem(value, where) for schema in self.schemas]
        return None if None in problems else problems[0]


@dataclass(frozen=True)
class Anything(Schema):
    def problem(self, value: Any, where: str = "the document") -> str | None:
        return None


ANYTHING = Anything()


@dataclass(frozen=True)
class ListOf(Schema):
    """A list whose items ``item`` accepts (at most ``max_items`` of them)."""

    item: Schema
    max_items: int | None = None

    def problem(self, value: Any, where: str = "the document") -> str | None:
        if not isinstance(value, list):
            return f"{where} is {json_type(value)}, expected a list"
        if self.max_items is not None and len(value) > self.max_items:
            return f"{where} holds {len(value):,} items, more than {self.max_items:,}"
        for index, item in enumerate(value):
            problem = self.item.problem(item, f"{where}[{index}]")
            if problem is not None:
                return problem
        return None


@dataclass(frozen=True)
class Object(Schema):
    """An object with ``fields`` (name -> schema; those in ``required`` must be there); other keys are allowed.

    ``values``: a schema every value of the object must pass (a mapping of names to alike values).
    """

    fields: dict[str, Schema] = field(default_factory=dict)
    required: tuple[str, ...] = ()
    values: Schema | None = None

    def problem(self, value: Any, where: str = "the document") -> str | None:
        if not isinstance(value, dict):
            return f"{where} is {json_type(value)}, expected an object"
        for name in self.required:
            if name not in value:
                return f"{where} has no {name!r}"
        for name, item in value.items():
            schema = self.fields.get(name, self.values)
            if schema is not None:
                inner = name if where == "the document" else f"{where}.{name}"
                problem = schema.problem(item, inner)
                if problem is not None:
                    return problem
        return None
