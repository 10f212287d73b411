"""A study's outputs: the best hyperparameters as an RL Zoo entry, a CSV of all trials, Optuna's
plots (HTML with plotly, PNG with matplotlib) and the summary printed at the end."""

import warnings
from pathlib import Path
from typing import Any

import matplotlib
import optuna
import pandas as pd
import yaml
from optuna.trial import FrozenTrial, TrialState

from sb3_pg.configs import format_policy_kwargs, has_classes, parse_policy_kwargs, schedules_as_text
from sb3_pg.search_space import SEARCH_SPACES, algorithm_defaults

PLOTS = ("plot_optimization_history", "plot_param_importances", "plot_parallel_coordinate", "plot_intermediate_values")


def study_settings(study: optuna.Study) -> dict[str, Any]:
    """The settings the study was created with (stored in its user attributes by ``tuning.study``),
    a fixed ``policy_kwargs`` stored in RL Zoo's spelling parsed back."""
    settings = dict(study.user_attrs["settings"])
    fixed = dict(settings.get("fixed") or {})
    if isinstance(fixed.get("policy_kwargs"), str):
        fixed["policy_kwargs"] = parse_policy_kwargs(fixed["policy_kwargs"])
    return {**settings, "fixed": fixed}


def zoo_entry(study: optuna.Study, trial: FrozenTrial | None = None) -> dict[str, Any]:
    """A trial's hyperparameters (the best by default) as an RL Zoo entry (``n_envs``, ``n_timesteps``,
    ``policy``, arguments)."""
    settings = study_settings(study)
    trial = trial or study.best_trial
    kwargs = SEARCH_SPACES[settings["algo"]].kwargs_from_params(trial.params, settings["fixed"])
    normalize = {"normalize": True} if settings.get("normalize") else {}
    entry = {
        "n_envs": settings["n_envs"],
        "n_timesteps": int(settings["n_timesteps"]),
        "policy": SEARCH_SPACES[settings["algo"]].algo.default_policy(),
    }
    return {**normalize, **entry, **schedules_as_text(kwargs)}


def write_zoo_yaml(study: optuna.Study, path: Path, trial: FrozenTrial | None = None, note: str = "") -> None:
    """Write a trial's hyperparameters (the best by default) in RL Zoo's format (``zoo_configs/``),
    with the study, and ``note``, in a comment."""
    settings = study_settings(study)
    chosen = trial or study.best_trial
    header = (
        f"# Tuned with `sb3-pg tune`: study {study.study_name!r}, trial {chosen.number} of {len(study.trials)},"
        f" objective {chosen.value:.2f}\n"
        f"# (mean of {settings['n_evaluations']} deterministic evaluations x {settings['eval_episodes']} episodes,"
        f" {settings['n_seeds']} seed(s), {settings['n_timesteps']} steps each)\n"
    )
    header += "".join(f"# {line}\n" for line in note.splitlines())
    entry = zoo_entry(study, chosen)
    if has_classes(entry.get("policy_kwargs")):  # YAML cannot hold classes: RL Zoo's string spelling
        entry["policy_kwargs"] = format_policy_kwargs(entry["policy_kwargs"])
    body = yaml.safe_dump({settings["env_id"]: entry}, sort_keys=False, default_flow_style=None)
    path.write_text(header + body)


def hyperparameters(study: optuna.Study, trial: FrozenTrial) -> dict[str, Any]:
    """
    A trial's searched hyperparameters in the user's terms: the model arguments its parameters make
    (``gamma``, not ``one_minus_gamma``; ``net_arch.vf: [64, 64]``, not an exponent), nested
    ``policy_kwargs`` flattened with dots, the ``--fixed`` ones left out.
    """
    settings = study_settings(study)
    fixed = settings.get("fixed") or {}
    space = SEARCH_SPACES[settings["algo"]]
    flat = schedules_as_text(_flatten(space.kwargs_from_params(trial.params, fixed)))
    # A searched argument the trial left at its default (pg_a2c's joint optimizer: critic_learning_rate
    # None) is shown with that default, not left out
    defaults = algorithm_defaults(space.algo)
    for hyperparameter in space.active(settings.get("extra_params") or [], fixed):
        for key in hyperparameter.keys:
            if "." not in key and key not in flat and key in defaults:
                flat[key] = defaults[key]
    fixed_names = set(_flatten(dict(fixed)))  # policy_kwargs' keys flattened as in ``flat``
    return {name: value for name, value in flat.items() if name not in fixed_names and name.split(".")[0] not in fixed}


def _flatten(kwargs: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in kwargs.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, "" if key == "policy_kwargs" else f"{name}."))
        else:
            flat[name] = value
    return flat


def trials_table(study: optuna.Study) -> pd.DataFrame:
    """Optuna's table of the trials, with each trial's hyperparameters in the user's terms after ``value``."""
    frame = study.trials_dataframe()
    readable = pd.DataFrame([{k: _cell(v) for k, v in hyperparameters(study, t).items()} for t in study.trials])
    if frame.empty or readable.empty:
        return frame
    at = list(frame.columns).index("value") + 1 if "value" in frame.columns else len(frame.columns)
    return pd.concat([frame.iloc[:, :at], readable.set_index(frame.index), frame.iloc[:, at:]], axis=1)


def _cell(value: Any) -> Any:
    return str(value) if isinstance(value, list | tuple) else value


# The plots of the trials' hyperparameters: drawn in the user's terms (user_named_study)
PARAMETER_PLOTS = ("plot_param_importances", "plot_parallel_coordinate")


def write_plots(study: optuna.Study, folder: Path) -> list[str]:
    """
    Write Optuna's plots as HTML (interactive; the browser loads plotly.js from its CDN) and PNG, the
    hyperparameters named as the user knows them (``gamma``, not the search's ``one_minus_gamma``).

    :return: one line per plot that could not be drawn (for example importances with one complete trial)
    """
    matplotlib.use("Agg")
    from optuna import visualization
    from optuna.visualization import matplotlib as visualization_mpl

    folder.mkdir(parents=True, exist_ok=True)
    named = user_named_study(study) if "settings" in study.user_attrs else study  # a study of sb3-pg tune's
    skipped = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        # Optuna's "importance ... may be inaccurate" with few trials per value, and matplotlib's
        # "identical low and high ylims" for a parameter that never varied: noise among the results
        warnings.simplefilter("ignore", UserWarning)
        for name in PLOTS:
            short = name.removeprefix("plot_")
            shown = named if name in PARAMETER_PLOTS else study
            try:
                # plotly.js from its CDN: 8 KB a page instead of 4.8 MB of the same script in each
                getattr(visualization, name)(shown).write_html(folder / f"{short}.html", include_plotlyjs="cdn")
                _save_png(getattr(visualization_mpl, name)(shown), folder / f"{short}.png")
            except (ValueError, RuntimeError, ZeroDivisionError) as error:
                skipped.append(f"{short}: {error}")
    return skipped


def _save_png(axes: Any, path: Path) -> None:
    """Save a matplotlib plot of Optuna's, its axis labels turned and spaced so that long names do not overlap."""
    import matplotlib.pyplot as plt

    first = axes.flat[0] if hasattr(axes, "flat") else axes
    figure = first.get_figure()
    n_labels = len(first.get_xticklabels())
    if n_labels > 4:  # a parallel-coordinate plot: one axis per hyperparameter
        figure.set_size_inches(max(figure.get_size_inches()[0], 1.3 * n_labels), figure.get_size_inches()[1])
        plt.setp(first.get_xticklabels(), rotation=30, ha="right")
    figure.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(figure)


def user_named_study(study: optuna.Study) -> optuna.Study:
    """
    An in-memory copy of the study's complete and pruned trials with each trial's hyperparameters in the
    user's terms (:func:`hyperparameters`): numbers as numbers (a linear schedule as its initial value,
    with ``NAME schedule`` saying which), anything else as a category.
    """
    finished = [t for t in study.trials if t.state in (TrialState.COMPLETE, TrialState.PRUNED)]
    rows = [(t, _plottable(hyperparameters(study, t))) for t in finished]
    distributions = _distributions([params for _, params in rows])
    named = optuna.create_study(direction=study.direction, study_name=study.study_name)
    for trial, params in rows:
        named.add_trial(
            optuna.trial.create_trial(
                params=params,
                distributions={name: distributions[name] for name in params},
                value=trial.value if trial.state == TrialState.COMPLETE else None,
                state=trial.state,
                intermediate_values=trial.intermediate_values,
            )
        )
    return named


def _plottable(hyperparameters: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in hyperparameters.items():
        if isinstance(value, str) and value.startswith("lin_"):
            out[name], out[f"{name} schedule"] = float(value.removeprefix("lin_")), "linear"
        elif isinstance(value, int | float) and not isinstance(value, bool):
            out[name] = float(value)
            if name in ("learning_rate", "critic_learning_rate"):
                out[f"{name} schedule"] = "constant"
        else:
            out[name] = str(value)
    return out


def _distributions(rows: list[dict[str, Any]]) -> dict[str, optuna.distributions.BaseDistribution]:
    """One distribution per name: a float range (log-scaled over a wide positive range), or the categories seen."""
    values: dict[str, list[Any]] = {}
    for params in rows:
        for name, value in params.items():
            values.setdefault(name, []).append(value)
    distributions: dict[str, optuna.distributions.BaseDistribution] = {}
    for name, seen in values.items():
        if all(isinstance(v, float) for v in seen):
            low, high = min(seen), max(seen)
            distributions[name] = optuna.distributions.FloatDistribution(low, high, log=low > 0 and high > 20 * low)
        else:
            distributions[name] = optuna.distributions.CategoricalDistribution(sorted({str(v) for v in seen}))
    for params in rows:  # a name that is a number in one trial and a category in another is a category
        for name, value in params.items():
            if isinstance(distributions[name], optuna.distributions.CategoricalDistribution):
                params[name] = str(value)
    return distributions


def steps_saved_by_pruning(study: optuna.Study) -> tuple[int, int]:
    """(steps the pruned trials did not train, steps planned for all complete and pruned trials)."""
    settings = study_settings(study)
    per_trial = settings["n_timesteps"] * settings["n_seeds"]
    pruned = study.get_trials(deepcopy=False, states=(TrialState.PRUNED,))
    saved = sum(max(0, per_trial - int(t.user_attrs.get("timesteps", 0))) for t in pruned)
    return saved, per_trial * len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED)))


def summary(study: optuna.Study, top: int = 5) -> str:
    """A short table of the study: counts, the best trials, the pruning savings."""
    trials = study.get_trials(deepcopy=False)
    counts = {state.name.lower(): sum(t.state == state for t in trials) for state in TrialState}
    lines = [f"study {study.study_name!r}: " + ", ".join(f"{n} {name}" for name, n in counts.items() if n)]
    complete = sorted(
        (t for t in trials if t.state == TrialState.COMPLETE and t.value is not None),
        key=lambda t: float(t.value or 0.0),
        reverse=True,
    )
    if complete:
        shown = {t.number: hyperparameters(study, t) for t in complete[:top]}
        names = sorted({name for values in shown.values() for name in values})
        lines.append(" | ".join(["trial", "objective", *names]))
        for t in complete[:top]:
            cells = (_short(shown[t.number].get(name, "-")) for name in names)
            lines.append(" | ".join([str(t.number), f"{t.value:.2f}", *cells]))
    saved, planned = steps_saved_by_pruning(study)
    if planned:
        lines.append(f"pruning saved {saved:,} of the {planned:,} planned training steps ({saved / planned:.0%})")
    return "\n".join(lines)


def _short(value: Any) -> str:
    if isinstance(value, str) and value.startswith("lin_"):  # a linear schedule, as RL Zoo spells it
        try:
            return f"lin_{float(value.removeprefix('lin_')):.3g}"
        except ValueError:
            return value
    return f"{value:.3g}" if isinstance(value, float) else str(value)
