"""YAML of the project's own data files, read with PyYAML's safe loader: its C form when PyYAML
was built with libyaml (several times faster, same objects; the knowledge base, the text rules
and the audit's code lists and specs are read at every start or run)."""

from __future__ import annotations

from typing import Any

import yaml

SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(text: str) -> Any:
    """``yaml.safe_load(text)``, with libyaml's loader where there is one."""
    return yaml.load(text, Loader=SafeLoader)
