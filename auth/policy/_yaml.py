"""Reading a configuration file as YAML, strictly.

PyYAML keeps the last of two equal keys without a word; in a policy that would let a
second `citizen:` entry silently replace the first, so duplicate keys are refused here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from auth.policy._errors import PolicyError


class _StrictLoader(yaml.SafeLoader):
    pass


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue  # keys written beside `<<: *anchor` override the merged ones
        key = loader.construct_object(key_node, deep=True)
        try:
            duplicate = key in seen
        except TypeError:  # an unhashable key; the constructor reports it below
            break
        if duplicate:
            mark = key_node.start_mark
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r} (line {mark.line + 1})", mark
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=True)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def read_yaml(path: Path, *, display_name: str | None = None) -> Any:
    """Parse `path`; every failure becomes a `PolicyError` naming the file."""
    name = display_name or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        problem = f"cannot read the file ({exc.__class__.__name__}: {exc})"
        raise PolicyError(problem, file=name) from exc
    try:
        return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        detail = " ".join(str(exc).split())
        raise PolicyError(f"not valid YAML: {detail}", file=name) from exc
