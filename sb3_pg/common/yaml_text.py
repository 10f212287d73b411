"""Values typed as text (command-line ``KEY=VALUE`` options) read as YAML."""

import re
from typing import Any

import yaml

_EXPONENT_NUMBER = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)[eE][-+]?\d+")


def yaml_value(text: str) -> Any:
    """A command-line value read as YAML, except that ``1e-3`` is a float: YAML 1.1 (PyYAML) reads a
    number in exponent form without a dot (``1e-3``, ``3E-4``) as a string, where anyone typing it on
    a command line means the number."""
    value = yaml.safe_load(text)
    if isinstance(value, str) and _EXPONENT_NUMBER.fullmatch(value.strip()):
        return float(value)
    return value
