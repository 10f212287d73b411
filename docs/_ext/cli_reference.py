"""``.. sb3-pg-cli::``: the command-line reference, generated from the ``sb3-pg`` parsers at build time.

Each command gets a section with its description, its usage and a table of its options (flags, help,
default), read from :func:`sb3_pg.cli.build_parser`, so the reference cannot drift from the code.
"""

import argparse
from typing import Any

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective


def _default(action: argparse.Action) -> str:
    default = action.default
    if default is None or default is False or default == [] or default == argparse.SUPPRESS:
        return ""
    return f"``{default}``"


def _flags(action: argparse.Action) -> str:
    if not action.option_strings:
        return f"``{action.metavar or action.dest}``"
    return ", ".join(f"``{flag}``" for flag in action.option_strings)


def _choices(action: argparse.Action) -> str:
    if not action.choices or len(action.choices) > 24:
        return ""
    return " One of: " + ", ".join(f"``{choice}``" for choice in action.choices) + "."


def command_lines(name: str, parser: argparse.ArgumentParser) -> list[str]:
    """reStructuredText for one command: title, description, usage, options table."""
    title = f"sb3-pg {name}"
    lines = [title, "-" * len(title), ""]
    if parser.description:
        lines += [parser.description, ""]
    usage = parser.format_usage().replace("usage: ", "").strip()
    lines += [".. code-block:: text", "", *[f"   {line}" for line in usage.splitlines()], ""]
    lines += [
        ".. list-table::",
        "   :header-rows: 1",
        "   :widths: 25 60 15",
        "",
        "   * - option",
        "     - what",
        "     - default",
    ]
    for action in parser._actions:
        if action.help == argparse.SUPPRESS or isinstance(action, argparse._HelpAction):
            continue
        text = (action.help or "").replace("\n", " ").replace("*", "\\*") + _choices(action)
        lines += [f"   * - {_flags(action)}", f"     - {text}", f"     - {_default(action)}"]
    return [*lines, ""]


class CliReference(SphinxDirective):
    """Every ``sb3-pg`` command's reference, from the parsers."""

    has_content = False

    def run(self) -> list[Any]:
        from sb3_pg.cli import build_parser

        parser = build_parser()
        subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        lines = []
        for name, sub in subparsers.choices.items():
            lines += command_lines(name, sub)
        container = nodes.section()
        container.document = self.state.document
        self.state.nested_parse(StringList(lines, source="sb3-pg --help"), 0, container, match_titles=True)
        return container.children


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_directive("sb3-pg-cli", CliReference)
    return {"version": "1.0", "parallel_read_safe": True}
