"""YAML loading that remembers where each value came from, for errors that name the line.

Shared by incident files and anything else validated from YAML: a pydantic error's location
(`sources.github.searches.0.query`) is turned into `file:line: field: message`.
"""

from __future__ import annotations

from collections.abc import Hashable
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

Model = TypeVar("Model", bound=BaseModel)


class ConfigFileError(ValueError):
    """A configuration file that cannot be used; the message names file, line and field."""


class _LineLoader(yaml.SafeLoader):
    """A safe loader that records the line of every mapping key and sequence item."""


class _BadValueError(ValueError):
    """A value YAML parses but Python cannot hold (`2024-02-30`, a list as a mapping key):
    its line, and the keys leading to it, gathered on the way out of the nested mappings."""

    def __init__(self, line: int, message: str, where: tuple[Any, ...] = ()) -> None:
        super().__init__(message)
        self.line, self.message, self.where = line, message, where

    def under(self, part: Any) -> _BadValueError:
        return _BadValueError(self.line, self.message, (part, *self.where))


def _construct_child(loader: _LineLoader, node: yaml.Node, part: Any) -> Any:
    """A mapping's value or a sequence's item; a value that cannot be built names its place."""
    try:
        return loader.construct_object(node, deep=True)
    except _BadValueError as error:
        raise error.under(part) from None


def _construct_timestamp(loader: _LineLoader, node: yaml.ScalarNode) -> Any:
    """A YAML timestamp; one that is no real time (30 February, hour 25) names its line."""
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except ValueError as error:
        raise _BadValueError(
            node.start_mark.line + 1, f"{node.value!r} is not a valid date or time ({error})"
        ) from None


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> dict[str, Any]:
    loader.flatten_mapping(node)
    mapping: dict[Any, Any] = {}
    lines: dict[Any, int] = {}
    for key_node, value_node in node.value:
        line = key_node.start_mark.line + 1
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, Hashable):
            raise _BadValueError(line, f"a key must be a single value, not a {key_node.id}")
        if key in mapping:
            raise ConfigFileError(f"{line}: key {key!r} appears twice in one mapping")
        mapping[key] = _construct_child(loader, value_node, key)
        lines[key] = line
    return _LinedDict(mapping, lines, node.start_mark.line + 1)


def _construct_sequence(loader: _LineLoader, node: yaml.SequenceNode) -> list[Any]:
    items = [_construct_child(loader, child, n) for n, child in enumerate(node.value)]
    return _LinedList(items, [child.start_mark.line + 1 for child in node.value])


class _LinedDict(dict[Any, Any]):
    def __init__(self, data: dict[Any, Any], lines: dict[Any, int], line: int) -> None:
        super().__init__(data)
        self.lines = lines
        self.line = line


class _LinedList(list[Any]):
    def __init__(self, data: list[Any], lines: list[int]) -> None:
        super().__init__(data)
        self.lines = lines


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)
_LineLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)


def read_yaml(path: Path) -> Any:
    """Parse a YAML file, keeping line numbers; errors name the file and line."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigFileError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigFileError(f"{path}: cannot read ({error})") from None
    try:
        return yaml.load(text, Loader=_LineLoader)
    except ConfigFileError as error:
        raise ConfigFileError(f"{path}:{error}") from None
    except _BadValueError as error:
        field = ".".join(str(part) for part in error.where) or "(top level)"
        raise ConfigFileError(f"{path}:{error.line}: {field}: {error.message}") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        problem = getattr(error, "problem", None) or str(error)
        raise ConfigFileError(f"{where}: invalid YAML: {problem}") from None


def line_of(data: Any, location: tuple[int | str, ...]) -> int | None:
    """The line of the deepest part of `location` that exists in the parsed document."""
    line = getattr(data, "line", None)
    node = data
    for part in location:
        if isinstance(node, _LinedDict) and part in node:
            line = node.lines.get(part, line)
            node = node[part]
        elif isinstance(node, _LinedList) and isinstance(part, int) and part < len(node):
            line = node.lines[part]
            node = node[part]
        else:
            break
    return line


def validate_file(model: type[Model], path: Path, context: dict[str, Any] | None = None) -> Model:
    """Read `path` and validate it as `model`; one error message lists every problem by line."""
    data = read_yaml(path)
    if not isinstance(data, dict):
        raise ConfigFileError(f"{path}: expected a mapping at the top level, got {_kind(data)}")
    try:
        return model.model_validate(data, context=context)
    except ValidationError as error:
        raise ConfigFileError(describe(error, data, path)) from None


def describe(error: ValidationError, data: Any, path: Path) -> str:
    problems = []
    for item in error.errors():
        location = tuple(item["loc"])
        line = line_of(data, location)
        field = ".".join(str(part) for part in location) or "(top level)"
        where = f"{path}:{line}" if line else str(path)
        problems.append(f"{where}: {field}: {item['msg']}")
    return "; ".join(problems)


def _kind(data: Any) -> str:
    """What YAML read, in the words of someone who wrote the file (not a Python type name)."""
    if data is None:
        return "nothing (the file is empty or only comments)"
    if isinstance(data, list):
        return "a list"
    if isinstance(data, bool):
        return f"the boolean {data!r}"
    if isinstance(data, int | float):
        return f"the number {data!r}"
    return f"the text {str(data)[:40]!r}"
