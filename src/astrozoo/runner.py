"""How one ``astrozoo run`` travels: names → recipe → data → fit → metrics → MLflow.

Each step is one call into one room (registry, recipes, the dataset, the model, tracking);
nothing reaches back.
"""

from __future__ import annotations

import csv
import hashlib
import json
import tempfile
from contextlib import nullcontext
from pathlib import Path

import numpy as np

from astrozoo import recipes, tracking, validate
from astrozoo.errors import AstrozooError
from astrozoo.interfaces import FitContext, RunResult
from astrozoo.metrics import calibration
from astrozoo.plots import calibration_curve, grid_plot, loss_curves, pit_histogram
from astrozoo.registry import check_signature, get_registry

MODEL_FILE = "model.azm"  # the same name astrozoo.serving reads

SPLITS = ("train", "val", "test")


def resolve_device(requested: str) -> str:
    if requested == "cpu":
        return "cpu"
    try:
        from astrozoo.training import select_device
    except ImportError:  # torch not installed: only CPU models can run
        return "cpu"
    return str(select_device(requested))


def prepare(task_name: str, model_name: str, *, dataset: str | None = None, profile: str = "quick",
            seed: int = 0, overrides=()):
    """Resolve and validate everything a run needs before anything is written: names, the
    recipe's values against the model's and dataset's parameters, a user's data file against the
    dataset's schema, the data cache and the tracking store. Returns (task, model class, dataset
    class, recipe)."""
    registry = get_registry()
    validate.check_run_options(seed)
    task = registry.task(task_name)
    recipe = registry.resolve(task_name, model_name, profile, overrides, dataset)
    dataset_name = recipe.dataset or task.default_dataset
    problems = registry.problems_about(task_name, model_name, dataset_name)
    if problems:
        more = f" (and {len(problems) - 1} more: astrozoo plugins)" if len(problems) > 1 else ""
        raise AstrozooError(problems[0] + more)
    model_entry = registry.model_entry(task_name, model_name)
    dataset_entry = registry.dataset_entry(task_name, dataset_name)
    model_cls, dataset_cls = model_entry.load(), dataset_entry.load()
    model_name = model_entry.name
    check_signature(model_cls, recipe.params, f"{recipe.path or 'the recipe'}: [params]", f"model {model_name!r}")
    given = {recipes.parse_override(text)[:2] for text in overrides}
    where = str(recipe.path or f"(no card for {task_name}/{model_name})")
    for section, cls in (("params", model_cls), ("data", dataset_cls)):
        for key, value in getattr(recipe, section).items():
            origin = f"--set {section}.{key}={value}" if (section, key) in given else where
            validate.check_params(section, {key: value}, cls, origin)
        validate.check_params(section, getattr(recipe, section), cls, where)  # cross-key rules
    user_file = _user_file(recipe)
    if user_file is not None and getattr(dataset_cls, "schema", None):
        validate.check_data_file(user_file, dataset_cls.schema)
    validate.check_cache()
    tracking.check_store(consequence="nothing was trained")
    return task, model_cls, dataset_cls, recipe


def _user_file(recipe) -> Path | None:
    path = recipe.data.get("path")
    if not path:
        return None
    path = Path(str(path)).expanduser()
    if not path.exists():
        raise validate.ValidationError(f"{path}: no such file (given as data.path)")
    return path if path.is_file() else None


def file_facts(path: Path) -> dict:
    """Path, sha256 and provenance (the file's own ``provenance`` attribute, else 'unknown') of a
    user's data file, for the run's tags."""
    import hashlib

    from astrozoo.data import store

    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    try:
        provenance = str(store.read_attrs(path).get("provenance", "unknown"))
    except AstrozooError:
        provenance = "unknown"
    return {"path": str(path.resolve()), "sha256": digest.hexdigest(), "provenance": provenance}


def fingerprint(config: dict, data_facts: dict) -> dict:
    """What ``--resume`` must find unchanged: the resolved recipe, the data, the code version."""
    import hashlib

    def digest(value) -> str:
        return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()[:16]

    recipe = {k: v for k, v in config.items() if k != "device"}
    versions = tracking.versions()
    code = f"{tracking.git_commit()[:12]}/astrozoo-{versions.get('astrozoo', '?')}"
    return {"recipe_sha256": digest(recipe), "data_sha256": digest(data_facts), "code": code}


def run(task_name: str, model_name: str, *, dataset: str | None = None, profile: str = "quick",
        seed: int = 0, overrides=(), device: str = "auto", resume: bool = False,
        register: str | None = None, echo=print, devices: int = 1, nodes: int = 1,
        strategy: str = "auto", precision: str = "auto") -> tuple[RunResult | None, str]:
    """Train and evaluate one model; return the result and the MLflow run id. With
    ``register``, the model is also registered under that name in MLflow's model registry.

    Everything is validated and the data loaded before the MLflow run opens, so a bad input
    leaves no run behind.

    With ``devices × nodes > 1`` every rank trains (Lightning Fabric launches or joins them);
    only rank 0 talks to MLflow, predicts and scores, the other ranks return ``(None, run_id)``."""
    registry = get_registry()
    task, model_cls, dataset_cls, recipe = prepare(task_name, model_name, dataset=dataset, profile=profile,
                                                   seed=seed, overrides=overrides)
    model_entry = registry.model_entry(task_name, model_name)
    dataset_entry = registry.dataset_entry(task_name, recipe.dataset or task.default_dataset)
    model_name = model_entry.name
    device = resolve_device(device)
    context = FitContext(device=device, seed=seed, devices=devices, nodes=nodes, strategy=strategy,
                         precision=precision)
    distributed = devices * nodes > 1
    rank = 0
    if distributed:
        from astrozoo import training

        rank = training.launch(context)  # the other ranks start here, or were started by torchrun/srun
        echo = echo if rank == 0 else (lambda *args, **kwargs: None)
    fold = recipe.data.get("fold", -1)
    run_name = f"{task_name}/{model_name}/{profile}/seed{seed}" + (f"/fold{fold}" if fold >= 0 else "")
    user_file = _user_file(recipe)
    facts = file_facts(user_file) if user_file else {}
    dataset_name = "file" if user_file else dataset_cls.name
    provenance = facts.get("provenance", dataset_cls.provenance)
    config = {"task": task_name, "model": model_name, "dataset": dataset_cls.name, "profile": profile,
              "seed": seed, "device": device, "params": recipe.params, "data": recipe.data}
    prints = fingerprint(config, {"dataset": dataset_cls.name, **facts})
    resume_id = tracking.find_resumable(task_name, run_name, prints) if resume and rank == 0 else None
    if resume and not resume_id:
        echo(f"no unfinished run named {run_name} to resume; starting a new one")

    echo(f"[{run_name}] data: {dataset_name if not user_file else user_file} ({provenance})")
    data = dataset_cls(**recipe.data)
    splits = {name: data.load(name) for name in SPLITS}
    info = data.info()
    seed_everything(seed)  # a model may draw its initial weights when it is built
    model = model_cls(**recipe.params)
    tags = {"task": task_name, "model": model_name, "dataset": dataset_name, "provenance": provenance,
            "profile": profile, "seed": seed, "device": device, "fold": fold, **prints,
            **({"dataset.reader": dataset_cls.name} if user_file else {}),
            **{f"data.{k}": v for k, v in facts.items() if k != "provenance"},
            "ceiling": str(model_cls.needs_truth).lower(), "overrides": json.dumps(sorted(overrides)) if overrides else "",
            **provenance_tags(registry, task_name, model_entry, dataset_entry, recipe),
            "devices": devices, "nodes": nodes, "strategy": strategy, "precision": precision}

    with (tracking.start_run(task_name, run_name, tags, run_id=resume_id, system_metrics=device.startswith("cuda"))
          if rank == 0 else nullcontext(_Silent())) as tracker:
        tracker.log_params(recipes.flatten({k: v for k, v in config.items() if k != "task"}))
        tracker.log_params({f"data.n_{name}": len(split) for name, split in splits.items()})
        log_data_inputs(tracker, dataset_cls.name, recipe.data, info, splits)
        tracker.log_params({f"data.info.{k}": v for k, v in info.items()})

        seed_everything(seed)
        run_id, resumed = tracker.run_id, resume_id is not None
        if distributed:  # every rank checkpoints and resumes in rank 0's run
            run_id, resumed = training.fabric_for(context).broadcast((run_id, resumed))
        context.tracker = tracker if rank == 0 else None
        context.checkpoint_dir, context.resume = tracking.checkpoint_dir(run_id), resumed
        echo(f"[{run_name}] fitting on {len(splits['train'])} train / {len(splits['val'])} val ({device}"
             + (f", {devices} × {nodes} processes, {strategy})" if distributed else ")"))
        model.fit(splits["train"], splits["val"], context)
        if rank:
            return None, run_id

        predictions = {}
        for name in SPLITS:
            split = splits[name]
            seen = split if model_cls.needs_truth else split.for_prediction(task.truth, f"model {model_name!r}")
            pred = {"ids": split.ids, "y_true": split.y, "y_pred": np.asarray(model.predict(seen))}
            std = model.predict_std(seen)
            if std is not None:
                pred["y_std"] = np.asarray(std)
            predictions[name] = pred
        test = predictions["test"]
        extra = dict(task.evaluate(predictions, splits)) if task.evaluate is not None else {}
        scores = {name: extra[name] if name in extra else registry.metric(name)(test["y_true"], test["y_pred"])
                  for name in task.metrics}
        scores.update({name: value for name, value in extra.items() if name not in scores})
        if task.kind == "regression":
            fitted, calibration_scores = calibrate(predictions)
            scores.update(calibration_scores)
            tracker.log_metrics({"recalibrated": float(fitted.conformal),
                                 **{f"interval_z_{name}": fitted.scale(p) for name, p in calibration.LEVELS.items()}})
        tracker.log_metrics({f"test_{k}": v for k, v in scores.items()})
        val = predictions["val"]
        tracker.log_metrics({f"val_{task.primary_metric}":
                             registry.metric(task.primary_metric)(val["y_true"], val["y_pred"])})

        history = getattr(model, "history", None)
        result = RunResult(task=task, model_name=model_name, config=config, metrics=scores,
                           predictions=predictions, splits=splits,
                           history={"train_loss": list(history.train_loss),
                                    "val_loss": list(history.val_loss)} if history else {},
                           best_epoch=history.best_epoch if history else None, model=model)
        _log_artifacts(tracker, result, model)
        if register:
            from astrozoo import serving

            test = predictions["test"]  # the served model predicts its own σ, not the run's calibrated one
            example = {"ids": test["ids"], "y_pred": test["y_pred"],
                       **({"y_std": test["y_std_raw"]} if "y_std_raw" in test else {})}
            version = serving.log_registered_model(tracker, model, task_name, dataset_cls.name,
                                                   recipe.data, example, register)
            echo(f"[{run_name}] registered model {register!r} version {version}")
        echo(f"[{run_name}] test metrics:")
        for name, value in scores.items():
            echo(f"  {name:>12s} = {value:.4f}")
        return result, tracker.run_id


def run_many(task_name: str, model_name: str, *, seeds=(0,), folds: int = 0, overrides=(),
             profile: str = "quick", echo=print, **kwargs) -> str:
    """Several seeds and/or K cross-validation folds as child runs of one parent MLflow run;
    the parent records mean and std of every test metric. Returns the parent's run id."""
    return _run_many(task_name, model_name, seeds=seeds, folds=folds, overrides=overrides, profile=profile,
                     echo=echo, **kwargs)[0]


def _run_many(task_name: str, model_name: str, *, seeds=(0,), folds: int = 0, overrides=(),
              profile: str = "quick", echo=print, **kwargs) -> tuple[str, dict[str, list[float]]]:
    """:func:`run_many`, also returning each test metric's values over the child runs."""
    import itertools

    validate.check_run_options(min(seeds), len(seeds), folds)
    if folds:
        from astrozoo.data.splits import check_fold

        registry = get_registry()
        card = registry.resolve(task_name, model_name, profile, overrides, kwargs.get("dataset"))
        dataset_cls = registry.dataset(task_name, card.dataset or registry.task(task_name).default_dataset)
        if not dataset_cls.folds:
            able = [n for n, entries in registry.datasets.items()
                    if entries[0].tasks[0] == task_name and entries[0].load().folds]
            raise AstrozooError(f"--folds: dataset {dataset_cls.name!r} offers no cross-validation folds; "
                                f"datasets of {task_name!r} that do: {', '.join(able) or 'none'}")
        check_fold(0, folds)
    prepare(task_name, model_name, profile=profile, seed=max(seeds), dataset=kwargs.get("dataset"),
            overrides=list(overrides) + ([f"data.fold={folds - 1}", f"data.n_folds={folds}"] if folds else []))
    tags = {"task": task_name, "model": model_name, "profile": profile, "role": "parent",
            "seeds": len(seeds), "folds": folds}
    name = f"{task_name}/{model_name}/{profile}/" + (f"{folds}-fold" if folds else f"{len(seeds)} seeds")
    collected: dict[str, list[float]] = {}
    with tracking.start_run(task_name, name, tags) as parent:
        for seed, fold in itertools.product(seeds, range(folds) if folds else [None]):
            extra = [f"data.fold={fold}", f"data.n_folds={folds}"] if fold is not None else []
            result, run_id = run(task_name, model_name, seed=seed, overrides=list(overrides) + extra,
                                 profile=profile, echo=echo, **kwargs)
            for key, value in result.metrics.items():
                collected.setdefault(key, []).append(value)
        summary = {f"mean_test_{k}": float(np.mean(v)) for k, v in collected.items()}
        summary.update({f"std_test_{k}": float(np.std(v)) for k, v in collected.items()})
        parent.log_metrics(summary)
        echo(f"[{name}] mean ± std over {len(next(iter(collected.values())))} runs:")
        for key, values in collected.items():
            echo(f"  {key:>12s} = {np.mean(values):.4f} ± {np.std(values):.4f}")
        return parent.run_id, collected


def calibrate(predictions: dict) -> tuple[calibration.Calibration, dict]:
    """Calibrated intervals from the validation split (:func:`astrozoo.metrics.calibration.fit`):
    the model's own σ (kept as ``y_std_raw``) where it covers the validation split as nominal, else
    split-conformal intervals on σ (1 for a model without one). Every split's ``y_std`` becomes the
    calibrated 68% half-width. Returns the calibration and the test scores: ``coverage_68`` and
    ``coverage_95`` of the calibrated intervals and, for a model with its own σ,
    ``raw_coverage_68``/``raw_coverage_95`` of ±1σ/±1.96σ."""
    for pred in predictions.values():
        if "y_std" in pred:
            pred["y_std_raw"] = np.asarray(pred["y_std"], dtype=float)
    own = "y_std_raw" in predictions["test"]
    fitted = calibration.fit(_residuals(predictions["val"]), own)
    z_test = _residuals(predictions["test"])
    scores = fitted.coverages(z_test)
    if own:
        scores.update({f"raw_{k}": v for k, v in calibration.Calibration(z_test, False).coverages(z_test).items()})
    for pred in predictions.values():
        pred["y_std"] = fitted.scale(calibration.LEVELS["68"]) * pred.get("y_std_raw", np.ones(len(pred["y_true"])))
    return fitted, scores


def _residuals(pred: dict) -> np.ndarray:
    """(y − ŷ)/σ with the model's own σ, or 1 where it has none."""
    return calibration.normalised_residuals(pred["y_true"], pred["y_pred"], pred.get("y_std_raw", 1.0))


def parse_grid(text: str) -> tuple[str, list[str]]:
    """``data.radius=0.5,1,2`` → ('data.radius', ['0.5', '1', '2'])."""
    key, _, values = text.partition("=")
    values = [v.strip() for v in values.split(",") if v.strip()]
    if "." not in key or not values:
        raise AstrozooError(f"--grid {text!r}: expected SECTION.KEY=V1,V2,..., e.g. data.radius=0.5,1,2")
    if len(set(values)) < len(values):
        raise AstrozooError(f"--grid {text!r}: a value is repeated")
    return key.strip(), values


def run_grid(task_name: str, model_name: str, grid: str, *, seeds=(0,), folds: int = 0, overrides=(),
             profile: str = "quick", echo=print, **kwargs) -> str:
    """One child run per value of ``grid`` (``SECTION.KEY=V1,V2,...``, set like ``--set``) under
    one parent MLflow run; with several seeds or folds each value is itself a parent of those
    (:func:`run_many`) and contributes its mean ± std. The parent logs every test metric at step
    i (the i-th value; params ``grid.key``, ``grid.values``) and ``plots/grid_<key>.png``, the
    test metrics against the value. Returns the parent's run id."""
    key, values = parse_grid(grid)
    for value in values:  # every value is checked before anything runs
        prepare(task_name, model_name, profile=profile, seed=max(seeds), dataset=kwargs.get("dataset"),
                overrides=list(overrides) + [f"{key}={value}"])
    many = len(seeds) > 1 or folds > 0
    tags = {"task": task_name, "model": model_name, "profile": profile, "role": "parent", "grid": key,
            "seeds": len(seeds), "folds": folds}
    name = f"{task_name}/{model_name}/{profile}/grid {key}"
    means: dict[str, list[float]] = {}
    stds: dict[str, list[float]] = {}
    with tracking.start_run(task_name, name, tags) as parent:
        parent.log_params({"grid.key": key, "grid.values": ",".join(values)})
        for step, value in enumerate(values):
            child = list(overrides) + [f"{key}={value}"]
            if many:
                _, collected = _run_many(task_name, model_name, seeds=seeds, folds=folds, overrides=child,
                                         profile=profile, echo=echo, **kwargs)
                metrics = {k: float(np.mean(v)) for k, v in collected.items()}
                spread = {k: float(np.std(v)) for k, v in collected.items()}
            else:
                result, _ = run(task_name, model_name, seed=seeds[0], overrides=child, profile=profile,
                                echo=echo, **kwargs)
                metrics, spread = result.metrics, {}
            parent.log_metrics({f"test_{k}": v for k, v in metrics.items()}, step=step)
            for k, v in metrics.items():
                means.setdefault(k, []).append(v)
                stds.setdefault(k, []).append(spread.get(k, 0.0))
        with tempfile.TemporaryDirectory() as tmp:
            path = grid_plot(key, values, means, stds if many else None, Path(tmp) / f"grid_{key}.png",
                             title=f"{task_name} / {model_name} ({profile})")
            parent.log_artifact(path, "plots")
        echo(f"[{name}] test metrics against {key}:")
        echo("  " + " ".join(f"{k:>10s}" for k in [key, *means]))
        for i, value in enumerate(values):
            echo("  " + " ".join(f"{x:>10s}" for x in [value, *(f"{v[i]:.4f}" for v in means.values())]))
        return parent.run_id


def provenance_tags(registry, task_name: str, model_entry, dataset_entry, recipe) -> dict:
    """Which plugin (distribution and version) provided the task, model and dataset, and which
    card file (path and sha256) the recipe came from."""
    task_entry = registry.tasks[task_name][0]
    tags = {f"plugin.{kind}": entry.package for kind, entry in
            (("task", task_entry), ("model", model_entry), ("dataset", dataset_entry))}
    if recipe.path is not None:
        tags["card"] = str(recipe.path)
        tags["card.sha256"] = hashlib.sha256(Path(recipe.path).read_bytes()).hexdigest()
        tags["card.owner"] = recipe.owner
    return tags


def log_data_inputs(tracker, name: str, data_params: dict, info: dict, splits: dict) -> None:
    """Each split as an MLflow dataset input: its digest covers the data source (the dataset's
    name, parameters and file: size and modification time) and the split's ids."""
    from astrozoo.data.cache import source_signature

    file = info.get("file")
    signature = source_signature([file]) if file and Path(str(file)).is_file() else []
    source = {"dataset": name, "params": json.dumps(data_params, sort_keys=True, default=str),
              "file": file or "", "provenance": info.get("provenance", "")}
    base = json.dumps([name, data_params, signature], sort_keys=True, default=str)
    for split_name, split in splits.items():
        digest = hashlib.sha256((base + split_name).encode() + np.asarray(split.ids).tobytes()).hexdigest()[:16]
        tracker.log_dataset(name, digest, source, context=split_name)


class _Silent:
    """The tracker of ranks other than 0: they do not talk to MLflow."""

    run_id = None

    def __getattr__(self, name):
        return lambda *args, **kwargs: None


def seed_everything(seed: int) -> None:
    """Seed Python's, NumPy's and (when installed) torch's global random states: the one seeding
    function (runs, contract checks)."""
    import random

    random.seed(seed)
    np.random.seed(seed % 2**32)
    try:
        import torch

        torch.manual_seed(seed)
    except ImportError:
        pass


def _log_artifacts(tracker, result: RunResult, model) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "recipe.json").write_text(json.dumps(result.config, indent=2, default=str))
        tracker.log_artifact(tmp / "recipe.json", "recipe")
        for name, pred in result.predictions.items():
            path = tmp / f"{name}.csv"
            columns = [c for c in ("ids", "y_true", "y_pred", "y_std") if c in pred]
            with open(path, "w", newline="") as fh:
                writer = csv.writer(fh)
                y_pred = np.asarray(pred["y_pred"])
                pred_cols = ["y_pred"] if y_pred.ndim == 1 else [f"p{k}" for k in range(y_pred.shape[1])]
                header = ["id", "y_true"] + pred_cols + (["y_std"] if "y_std" in pred else [])
                writer.writerow(header)
                for i in range(len(pred["ids"])):
                    row = [pred["ids"][i], pred["y_true"][i]]
                    row += list(np.atleast_1d(y_pred[i]))
                    if "y_std" in columns:
                        row.append(pred["y_std"][i])
                    writer.writerow(row)
            tracker.log_artifact(path, "predictions")
        model_path = model.save(tmp / MODEL_FILE)
        tracker.log_artifact(model_path, "model")
        plots = tmp / "plots"
        plots.mkdir()
        paths = []
        if result.history:
            paths.append(loss_curves(result.history, result.best_epoch, plots / "loss_curves.png",
                                     title=f"{result.task.name} / {result.model_name}"))
        if result.task.kind == "regression" and "y_std" in result.predictions["test"]:
            paths += calibration_figures(result.predictions, plots, f"{result.model_name} (test)")
        if result.task.report is not None:
            paths += result.task.report(result, plots)
        for path in paths:
            tracker.log_artifact(path, "plots")


def calibration_figures(predictions: dict, folder: Path, title: str) -> list[Path]:
    """The test split's PIT histogram and calibration curve: the calibrated intervals and, where
    they were recalibrated, the model's own σ read as a Gaussian's."""
    own = "y_std_raw" in predictions["test"]
    fitted = calibration.fit(_residuals(predictions["val"]), own)
    z_test = _residuals(predictions["test"])
    curves = {("conformal on validation" if fitted.conformal else "model's σ (Gaussian)"): fitted.curve(z_test)}
    if own and fitted.conformal:
        curves = {"model's σ (Gaussian)": calibration.Calibration(z_test, False).curve(z_test), **curves}
    return [pit_histogram(fitted.pit(z_test), folder / "pit_histogram.png", title=title),
            calibration_curve(curves, folder / "calibration_curve.png", title=title)]
