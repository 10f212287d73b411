"""The comparison's report: ``report.md`` (tables), ``results.csv`` (one row per run), PNG learning
curves per env and an aggregate figure (matplotlib)."""

import csv
import math
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import matplotlib
import numpy as np
from optuna.trial import FrozenTrial, TrialState

from sb3_pg.compare import stats
from sb3_pg.compare.algos import BASELINE, run_config
from sb3_pg.compare.queue import CompareSettings, run_of
from sb3_pg.experiment import budget
from sb3_pg.registry import PEERS

CURVE_POINTS = 50  # evaluation steps on the common grid of a learning-curve figure
# RL Zoo's published A2C scores (its benchmark.md: one trained agent per env, deterministic
# evaluation, +- the std over evaluation episodes, not over seeds), for the env ids it lists; its
# MuJoCo agents ran the v3 envs for 1M steps
PUBLISHED_RL_ZOO_A2C: dict[str, tuple[str, str]] = {
    "CartPole-v1": ("500.0 ± 0.0", ""),
    "Acrobot-v1": ("-83.4 ± 17.2", ""),
    "MountainCar-v0": ("-111.3 ± 24.1", ""),
    "Pendulum-v1": ("-163.0 ± 103.2", ""),
    "MountainCarContinuous-v0": ("91.2 ± 0.3", ""),
    "LunarLander-v3": ("155.8 ± 80.4", " (LunarLander-v2)"),
    "HalfCheetah-v5": ("3041.2 ± 157.3", " (HalfCheetah-v3, 1M steps)"),
    "Hopper-v5": ("733.5 ± 376.6", " (Hopper-v3, 1M steps)"),
    "Walker2d-v5": ("581.8 ± 127.6", " (Walker2d-v3, 1M steps)"),
    "Ant-v5": ("-44.0 ± 63.2", " (Ant-v3, 1M steps)"),
    "Swimmer-v5": ("200.6 ± 2.5", " (Swimmer-v3, 1M steps)"),
}
# Tianshou's MuJoCo benchmark (v3 envs): the best point of the 10-seed average learning curve, A2C
# at 1M steps and REINFORCE at 3M; compare it with this report's "best seed mean" column
PUBLISHED_TIANSHOU: dict[str, tuple[float, float]] = {  # env: (A2C at 1M, REINFORCE at 3M)
    "HalfCheetah-v5": (1829.9, 884.0),
    "Hopper-v5": (1253.2, 395.8),
    "Walker2d-v5": (1091.6, 412.0),
    "Ant-v5": (3485.4, 474.9),
    "Swimmer-v5": (36.6, 35.3),
}


@dataclass
class Run:
    algo: str
    env_id: str
    seed: int
    state: str  # "complete", "failed", "waiting" or "running"
    steps: list[int]
    returns: list[float]
    steps_per_second: float
    error: str = ""
    timesteps: int = 0  # env steps actually trained

    @property
    def final(self) -> float:
        return self.returns[-1]

    @property
    def area(self) -> float:
        """The normalised area under the learning curve (:func:`stats.area_under_curve`)."""
        return stats.area_under_curve(self.env_id, self.steps, self.returns)


def collect(trials: list[FrozenTrial]) -> list[Run]:
    """The runs of a grid, from its trials."""
    runs = []
    for trial in trials:
        algo, env_id, seed = run_of(trial)
        result = trial.user_attrs.get("result", {})
        state = {TrialState.COMPLETE: "complete", TrialState.FAIL: "failed"}.get(trial.state, trial.state.name.lower())
        runs.append(
            Run(
                algo,
                env_id,
                seed,
                state,
                list(result.get("steps", [])),
                list(result.get("returns", [])),
                float(trial.user_attrs.get("steps_per_second", math.nan)),
                str(trial.user_attrs.get("error", "")),
                int(result.get("timesteps", 0)),
            )
        )
    return sorted(runs, key=lambda run: (run.env_id, run.algo, run.seed))


def best_seed_mean(runs: list[Run]) -> float:
    """
    The best point of the seed-average learning curve, as Tianshou's benchmark reports: the mean
    over runs of their k-th evaluation, maximised over k (the evaluations every run has: they are
    at the same multiples of ``--eval-freq``).
    """
    length = min(len(run.returns) for run in runs)
    return float(np.array([run.returns[:length] for run in runs]).mean(axis=0).max())


def _steps(value: float, budget: int) -> str:
    return f"> {budget:,}" if math.isinf(value) else f"{value:,.0f}"


def auc_heading(env_id: str) -> str:
    """The AUC column's heading: normalised where the env has a normalisation, else the mean raw return."""
    if env_id in stats.NORMALIZATION:
        return "AUC IQM [95% CI]"
    return "AUC (mean return over training, not normalised) IQM [95% CI]"


def peers_in(algos: list[str]) -> dict[str, str]:
    """Each of our algorithms in ``algos`` whose peer from another library is there too: {ours: peer}."""
    return {peer.peer_of: name for name, peer in PEERS.items() if peer.peer_of in algos and name in algos}


def env_table(env_id: str, algos: list[str], runs: list[Run]) -> list[str]:
    """Markdown rows for one env: one per algorithm, then RL Zoo's published A2C score if there is one."""
    target = stats.threshold(env_id)
    peers = peers_in(algos)
    peer_heading = " P(better than its Tianshou peer) |" if peers else ""
    lines = [
        f"### {env_id}" + (f" (threshold {target:g})" if target is not None else " (no threshold)"),
        "",
        "| algorithm | runs | trained steps | final return IQM [95% CI] | mean ± std | best seed mean"
        f" | {auc_heading(env_id)} | median steps to threshold | steps/s | P(better than sb3_a2c) |{peer_heading}",
        "|---|---|---|---|---|---|---|---|---|---|" + ("---|" if peers else ""),
    ]
    complete = {algo: [r for r in runs if r.algo == algo and r.state == "complete"] for algo in algos}
    finals_of = {algo: np.array([r.final for r in done]) for algo, done in complete.items()}
    for algo in algos:
        failed = [r for r in runs if r.algo == algo and r.state == "failed"]
        count = f"{len(complete[algo])}" + (f" ({len(failed)} failed)" if failed else "")
        if not complete[algo]:
            lines.append(f"| {algo} | {count} |" + " - |" * (9 if peers else 8))
            continue
        row = _algo_row(algo, count, complete[algo], target)
        row += f" {_improvement(finals_of[algo], finals_of.get(BASELINE), algo != BASELINE)} |"
        if peers:
            peer = peers.get(algo)
            row += f" {_improvement(finals_of[algo], finals_of.get(peer) if peer else None, peer is not None)} |"
        lines.append(row)
    if env_id in PUBLISHED_RL_ZOO_A2C:
        score, version = PUBLISHED_RL_ZOO_A2C[env_id]
        lines += ["", f"RL Zoo's published A2C score{version}: {score} (one agent; ± over evaluation episodes)."]
    if env_id in PUBLISHED_TIANSHOU:
        a2c, reinforce = PUBLISHED_TIANSHOU[env_id]
        lines += [
            "",
            f"Tianshou's published best point of the 10-seed average ({env_id.replace('-v5', '-v3')}): A2C {a2c:.1f}"
            f" at 1M steps, REINFORCE {reinforce:.1f} at 3M; compare with the best seed mean column.",
        ]
    return [*lines, ""]


def _algo_row(algo: str, count: str, done: list[Run], target: float | None) -> str:
    """One algorithm's row of an env's table, up to its speed."""
    finals = np.array([r.final for r in done])
    interval = stats.iqm_interval(finals)
    area = stats.iqm_interval(np.array([r.area for r in done]))
    trained = [r.timesteps or r.steps[-1] for r in done]
    to_threshold = float(np.median([stats.steps_to_threshold(r.steps, r.returns, target) for r in done]))
    reach = "n/a" if target is None else _steps(to_threshold, max(trained))
    speed = float(np.median([r.steps_per_second for r in done]))
    return (
        f"| {algo} | {count} | {_trained(trained)} | {interval.value:.1f} [{interval.low:.1f}, {interval.high:.1f}] |"
        f" {finals.mean():.1f} ± {finals.std():.1f} | {best_seed_mean(done):.1f} |"
        f" {area.value:.2f} [{area.low:.2f}, {area.high:.2f}] | {reach} | {speed:,.0f} |"
    )


def _improvement(finals: np.ndarray, other: np.ndarray | None, wanted: bool) -> str:
    """rliable's probability that a run of ``finals`` ends above one of ``other``, or "-"."""
    if not wanted or other is None or not len(other):
        return "-"
    return f"{stats.probability_of_improvement(finals, other):.2f}"


def _trained(steps: list[int]) -> str:
    low, high = min(steps), max(steps)
    return f"{low:,}" if low == high else f"{low:,}-{high:,}"


def aggregate_scores(
    runs: list[Run], algos: list[str], envs: list[str], score: Callable[[Run], float] | None = None
) -> dict[str, np.ndarray]:
    """Normalised scores (the final return by default), runs x envs per algorithm (the first seeds common to every env)."""
    score = score or (lambda r: float(stats.normalized(r.env_id, np.array(r.final))))
    scores: dict[str, np.ndarray] = {}
    for algo in algos:
        per_env = [[score(r) for r in runs if r.algo == algo and r.env_id == env and r.state == "complete"] for env in envs]
        n = min((len(column) for column in per_env), default=0)
        if n:
            scores[algo] = np.array([column[:n] for column in per_env]).T
    return scores


def aggregate_table(scores: dict[str, np.ndarray], areas: dict[str, np.ndarray] | None = None) -> list[str]:
    lines = [
        "| algorithm | runs per env | normalised IQM [95% CI] | normalised mean | P(better than sb3_a2c)"
        + (" | normalised AUC IQM [95% CI] |" if areas else " |"),
        "|---|---|---|---|---|" + ("---|" if areas else ""),
    ]
    for algo, matrix in scores.items():
        interval = stats.iqm_interval(matrix)
        improvement = "-"
        if algo != BASELINE and BASELINE in scores:
            n = min(len(matrix), len(scores[BASELINE]))
            improvement = f"{stats.probability_of_improvement(matrix[:n], scores[BASELINE][:n]):.2f}"
        # Three decimals: normalised scores near 1 (solved envs) differ in the third
        row = f"| {algo} | {len(matrix)} | {_interval_text(interval)} | {matrix.mean():.3f} | {improvement} |"
        if areas:
            row += f" {_interval_text(stats.iqm_interval(areas[algo]))} |"
        lines.append(row)
    return lines


def _interval_text(interval: stats.Interval) -> str:
    return f"{interval.value:.3f} [{interval.low:.3f}, {interval.high:.3f}]"


def curve_figure(env_id: str, algos: list[str], runs: list[Run], path: Path) -> None:
    """IQM evaluation return over env steps with a 95% stratified-bootstrap band, one line per algorithm."""
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(6.4, 4.2))
    for algo in algos:
        done = [r for r in runs if r.algo == algo and r.state == "complete" and r.steps]
        if not done:
            continue
        start, end = max(r.steps[0] for r in done), min(r.steps[-1] for r in done)
        # A run with one evaluation (a budget of one --eval-freq) is a point, drawn as a marker
        grid = np.linspace(start, end, CURVE_POINTS) if end > start else np.array([end])
        curves = np.array([np.interp(grid, r.steps, r.returns) for r in done])  # runs x points
        value, low, high = stats.iqm_curve(curves)
        marker = "o" if len(grid) == 1 else None
        line = axes.plot(grid, value, marker=marker, label=f"{algo} ({len(done)} seeds)")[0]
        if len(grid) == 1:
            axes.errorbar(grid, value, yerr=[value - low, high - value], fmt="none", color=line.get_color(), capsize=4)
        else:
            axes.fill_between(grid, low, high, alpha=0.2)
    target = stats.threshold(env_id)
    if target is not None:
        axes.axhline(target, color="grey", linestyle=":", linewidth=1, label="threshold")
    axes.set(title=env_id, xlabel="environment steps", ylabel="evaluation return (IQM, 95% CI)")
    if axes.get_legend_handles_labels()[0]:
        axes.legend(loc="best", fontsize="small")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def aggregate_figure(scores: dict[str, np.ndarray], path: Path) -> None:
    """Normalised final score per algorithm over all envs: IQM and mean with 95% intervals."""
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, 2, figsize=(8, 0.6 * len(scores) + 1.6), sharey=True)
    names = list(scores)
    aggregates = [("IQM", stats.metrics.aggregate_iqm), ("mean", stats.metrics.aggregate_mean)]
    for ax, (title, aggregate) in zip(axes, aggregates, strict=True):
        for row, algo in enumerate(names):
            interval = stats.aggregate_interval(scores[algo], aggregate)
            ax.errorbar(
                interval.value,
                row,
                xerr=[[interval.value - interval.low], [interval.high - interval.value]],
                fmt="o",
                capsize=4,
            )
        ax.set(title=f"normalised score, {title}", xlabel="0 = random policy, 1 = threshold")
        ax.set_yticks(range(len(names)), names)
        ax.grid(axis="x", alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def write_report(runs: list[Run], algos: list[str], envs: list[str], settings: CompareSettings, out: Path) -> Path:
    """Write ``report.md``, ``results.csv`` and the figures; return the report's path."""
    matplotlib.use("Agg")
    out.mkdir(parents=True, exist_ok=True)
    lines = [
        "# sb3-pg compare",
        "",
        f"Mode `{settings.mode}`; deterministic evaluation of {settings.eval_episodes} episodes every"
        f" {settings.eval_freq:,} env steps on a separate env; final return = the last evaluation, at the end of training."
        " IQM and its 95% stratified-bootstrap interval, and the probability of improvement, with rliable."
        " Trained steps: what the runs actually trained (a batch may end past the budget)."
        " AUC: the area under the learning curve, normalised (0 = random policy, 1 = the env's threshold),"
        " i.e. the mean normalised evaluation return over training, trapezoidal from the first evaluation to the last"
        " (an env without a normalisation, such as MuJoCo's, has the mean raw return instead, and its column says so)."
        " Steps to threshold: the first evaluation from which every later one stays at or above the threshold"
        ' (reached and held to the end; "> N" when the last evaluation is below it), median over seeds.'
        " Steps/s: training only (evaluation excluded), median over seeds.",
        "",
        "## Hyperparameters",
        "",
        "| env | algorithm | source | n_envs | budget |",
        "|---|---|---|---|---|",
    ]
    for env_id in envs:
        for algo in algos:
            config = run_config(algo, env_id, settings.mode)
            steps = budget(settings.timesteps, env_id, config)
            lines.append(f"| {env_id} | {algo} | {config.source} | {config.n_envs} | {steps:,} |")
    lines += ["", "## Per env", ""]
    for env_id in envs:
        env_runs = [r for r in runs if r.env_id == env_id]
        lines += env_table(env_id, algos, env_runs)
        if not any(r.state == "complete" and len(r.steps) > 1 for r in env_runs):
            lines += ["No complete run with a learning curve: no figure.", ""]
            continue
        figure = out / f"curves_{env_id}.png"
        curve_figure(env_id, algos, env_runs, figure)
        lines += [f"![{env_id}]({figure.name})", ""]
    normalizable = [env_id for env_id in envs if env_id in stats.NORMALIZATION]
    scores = aggregate_scores(runs, algos, normalizable)
    if scores and len(normalizable) > 1:
        areas = aggregate_scores(runs, algos, normalizable, lambda r: r.area)
        lines += ["## Aggregate over envs (normalised: 0 = random policy, 1 = the env's threshold)", ""]
        if len(normalizable) < len(envs):
            lines += [f"Without {', '.join(sorted(set(envs) - set(normalizable)))}: no normalisation known.", ""]
        lines += [*aggregate_table(scores, areas), "", "![aggregate](aggregate.png)", ""]
        aggregate_figure(scores, out / "aggregate.png")
    failed = [r for r in runs if r.state == "failed"]
    if failed:
        lines += ["## Failed runs", "", "| env | algorithm | seed | error |", "|---|---|---|---|"]
        lines += [f"| {r.env_id} | {r.algo} | {r.seed} | {r.error.replace('|', '/')} |" for r in failed]
        lines.append("")
    path = out / "report.md"
    path.write_text("\n".join(lines))
    write_csv(runs, out / "results.csv")
    return path


def write_csv(runs: list[Run], path: Path) -> None:
    with path.open("w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(
            [
                "env",
                "algo",
                "seed",
                "state",
                "final_return",
                "steps",
                "steps_per_second",
                "curve_steps",
                "curve_returns",
                "error",
            ]
        )
        for r in runs:
            final = r.final if r.returns else ""
            writer.writerow(
                [
                    r.env_id,
                    r.algo,
                    r.seed,
                    r.state,
                    final,
                    r.steps[-1] if r.steps else "",
                    r.steps_per_second,
                    " ".join(map(str, r.steps)),
                    " ".join(f"{x:.2f}" for x in r.returns),
                    r.error,
                ]
            )


def summary(runs: list[Run], algos: list[str], envs: list[str]) -> str:
    """A short text summary: the final-return IQM per env and algorithm."""
    rows = []
    for env_id in envs:
        cells = []
        for algo in algos:
            finals = [r.final for r in runs if r.env_id == env_id and r.algo == algo and r.state == "complete"]
            cells.append(f"{algo} {stats.iqm(np.array(finals)):.1f}" if finals else f"{algo} -")
        rows.append(f"{env_id}: " + ", ".join(cells))
    by_state: dict[str, int] = defaultdict(int)
    for r in runs:
        by_state[r.state] += 1
    rows.append("runs: " + ", ".join(f"{n} {state}" for state, n in sorted(by_state.items())))
    return "\n".join(rows)
