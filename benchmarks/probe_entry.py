"""Quick probes of a ``zoo_configs/`` entry with some of its values changed: each seed trains and is
evaluated exactly as one ``sb3-pg compare --mode tuned`` run (``sb3_pg.compare.runner``), without a
store or a report, and prints its evaluation curve as a JSON line. For trying an idea on a few seeds
before a study confirms it on held-out ones (``sb3-pg tune --enqueue``). ``--summarize`` reads such
lines back and prints each probe's final-return IQM with its 95% interval (rliable, as in
``sb3-pg compare``'s report) and, with ``--against``, its probability of improvement over another.

Usage: python benchmarks/probe_entry.py --algo recurrent_a2c --env CartPoleNoVel-v1
           --hyperparams "{gamma: 0.999, learning_rate: lin_1e-3}" --seeds 0 1 2 3 4 5
           [--eval-freq 10000] [--eval-episodes 10] [--name NAME]
       python benchmarks/probe_entry.py --summarize probes.jsonl [more.jsonl ...] [--against NAME]
"""

import argparse
import json
from pathlib import Path

import numpy as np
import yaml

from sb3_pg.common.process import configure_process
from sb3_pg.compare.algos import ALGO_NAMES, run_config
from sb3_pg.compare.runner import train_and_evaluate
from sb3_pg.compare.stats import iqm_interval, probability_of_improvement


def read_finals(paths: list[Path]) -> dict[str, dict[int, float]]:
    """
    Each probe's final evaluation return per seed, from probe lines (``{"name", "seed", "returns"}``);
    a seed probed twice under one name keeps its later line, as a re-run replaces a run.

    :raise ValueError: naming the file and line that is not a probe line
    """
    finals: dict[str, dict[int, float]] = {}
    for path in paths:
        for number, text in enumerate(path.read_text().splitlines(), start=1):
            if not text.strip():
                continue
            try:
                line = json.loads(text)
                finals.setdefault(str(line["name"]), {})[int(line["seed"])] = float(line["returns"][-1])
            except (ValueError, KeyError, TypeError, IndexError) as error:
                raise ValueError(f"{path}:{number}: not a probe line ({error!r})") from error
    return finals


def summary_lines(finals: dict[str, dict[int, float]], against: str | None = None) -> list[str]:
    """One line per probe: its seeds, final returns, final-return IQM [95% CI], and P(better than ``against``)."""
    lines = []
    reference = None if against is None else np.array(list(finals[against].values()))
    for name, by_seed in finals.items():
        seeds = sorted(by_seed)
        scores = np.array([by_seed[seed] for seed in seeds])
        interval = iqm_interval(scores)
        line = (
            f"{name}: seeds {' '.join(map(str, seeds))}; final {' '.join(f'{s:.1f}' for s in scores)}; "
            f"IQM {interval.value:.1f} [{interval.low:.1f}, {interval.high:.1f}]"
        )
        if reference is not None and name != against:
            line += f"; P(better than {against}) {probability_of_improvement(scores, reference):.2f}"
        lines.append(line)
    return lines


def summarize(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    missing = [str(path) for path in args.summarize if not path.is_file()]
    if missing:
        parser.error(f"argument --summarize: no such file: {', '.join(missing)}")
    try:
        finals = read_finals(args.summarize)
    except ValueError as error:
        parser.error(f"argument --summarize: {error}")
    if not finals:
        parser.error("argument --summarize: the files hold no probe line")
    if args.against is not None and args.against not in finals:
        parser.error(f"argument --against: {args.against!r} is not a probe in the files; choose from {sorted(finals)}")
    print("\n".join(summary_lines(finals, args.against)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--algo", choices=ALGO_NAMES)
    parser.add_argument("--env")
    parser.add_argument("--hyperparams", default="{}", help="YAML mapping of entry values to override")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--eval-freq", type=int, default=10_000)
    parser.add_argument("--eval-episodes", type=int, default=10)
    parser.add_argument("--name", default=None, help="label of the printed lines (default: the overrides)")
    parser.add_argument("--summarize", type=Path, nargs="+", metavar="FILE", help="summarize probe lines instead")
    parser.add_argument("--against", default=None, help="with --summarize: the probe others are compared with")
    args = parser.parse_args()
    configure_process()  # one torch thread, third-party warnings off, one SB3 log folder
    if args.summarize:
        summarize(parser, args)
        return
    if args.against is not None:
        parser.error("argument --against: only with --summarize")
    if args.algo is None or args.env is None:
        parser.error("the following arguments are required to probe: --algo, --env (or give --summarize FILE)")
    overrides = yaml.safe_load(args.hyperparams) or {}
    if not isinstance(overrides, dict):
        parser.error(f"argument --hyperparams: expected a YAML mapping; got {args.hyperparams!r}")
    config = run_config(args.algo, args.env, "tuned", hyperparams=overrides)
    for seed in args.seeds:
        result = train_and_evaluate(config, args.env, seed, config.n_timesteps, args.eval_freq, args.eval_episodes)
        line = {"name": args.name or args.hyperparams, "seed": seed, "returns": [round(r, 1) for r in result.returns]}
        print(json.dumps({**line, "train_seconds": round(result.train_seconds)}), flush=True)


if __name__ == "__main__":
    main()
