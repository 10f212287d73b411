"""The ``sb3-pg`` command (also ``python -m sb3_pg``): one module per command.

- ``sb3-pg train`` (:mod:`sb3_pg.cli.train`): train one of our algorithms on an env and evaluate it;
  the core install.
- ``sb3-pg tune`` (:mod:`sb3_pg.cli.tune`), ``sb3-pg compare`` (:mod:`sb3_pg.cli.compare`) and
  ``sb3-pg zoo`` (:mod:`sb3_pg.cli.zoo`): the tools, with the ``extra`` extra.

Bad input exits 2 with one line naming the option; a tool whose extra is missing exits 2 naming the
extra; Ctrl-C exits 130 with one line saying what was kept.
"""

import argparse
import sys

import torch as th

from sb3_pg import __version__
from sb3_pg.cli import compare, train, tune, zoo
from sb3_pg.cli.options import HelpFormatter, MissingExtra
from sb3_pg.common.process import configure_process

COMMANDS = (train, tune, zoo, compare)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sb3-pg", description="Policy-gradient algorithms for Stable-Baselines3.", formatter_class=HelpFormatter
    )
    parser.add_argument("--version", action="version", version=version_text())
    commands = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.add_parser(commands)
    return parser


def version_text() -> str:
    """``sb3-pg --version``: ours, and the versions of what it runs on."""
    import stable_baselines3

    return f"sb3-pg {__version__} (stable-baselines3 {stable_baselines3.__version__}, torch {th.__version__})"


def main(argv: list[str] | None = None) -> int:
    configure_process()
    parser = build_parser()
    args = parser.parse_args(argv)
    # Errors found after parsing print the subcommand's usage, not the top-level one
    command_parser: argparse.ArgumentParser = args.command_parser
    try:
        return int(args.run(args, command_parser))
    except MissingExtra as error:
        command_parser.error(str(error))  # exits 2
    except KeyboardInterrupt:  # outside a command's own handling: nothing was being trained
        print("\ninterrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
