"""``sb3-pg zoo train|enjoy``: RL Zoo's own commands with our algorithms registered (:mod:`sb3_pg.zoo`;
the ``extra`` extra). Every option after the command is RL Zoo's (``sb3-pg zoo train --help`` lists them)."""

import argparse
import sys

from sb3_pg.cli.options import TOOLS_MODULES, HelpFormatter, require_extra

INTERRUPTED = 130


def add_parser(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    zoo = commands.add_parser(
        "zoo",
        help="RL Zoo's train/enjoy with our algorithms registered: sb3-pg zoo train --algo pg_a2c ... (the extra extra)",
        description="RL Zoo's own train and enjoy commands with sb3_pg's algorithms registered; every option after"
        " the command is RL Zoo's (sb3-pg zoo train --help lists them). For our algorithms --conf-file defaults to"
        " their tuned entries (sb3_pg/zoo_configs), checked before RL Zoo runs.",
        formatter_class=HelpFormatter,
    )
    zoo.add_argument(
        "zoo_command",
        choices=("train", "enjoy"),
        metavar="{train,enjoy}",
        help="RL Zoo's train (or tune with -optimize), or enjoy",
    )
    # RL Zoo's own parser reads everything after the command, --help included
    zoo.add_argument(
        "zoo_args", nargs=argparse.REMAINDER, metavar="...", help="RL Zoo's arguments (sb3-pg zoo train --help lists them)"
    )
    zoo.set_defaults(run=run, command_parser=zoo)


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    require_extra("extra", *TOOLS_MODULES)
    from sb3_pg.zoo import ZooUsageError, zoo_main

    try:
        return zoo_main(args.zoo_command, list(args.zoo_args))
    except ZooUsageError as error:  # as parser.error words it, returned rather than raised (as RL Zoo's own exits)
        parser.print_usage(sys.stderr)
        print(f"{parser.prog}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ninterrupted: RL Zoo keeps what it saved in its log folder")
        return INTERRUPTED
    except Exception as error:  # RL Zoo's own failures (bad arguments it checks late, missing files): one line
        message = str(error).strip().splitlines()[0] if str(error).strip() else ""
        print(f"sb3-pg zoo: error: RL Zoo failed: {type(error).__name__}: {message}"[:500])
        return 1
