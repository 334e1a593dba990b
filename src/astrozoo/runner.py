"""How one ``astrozoo run`` travels: names → recipe → data → fit → metrics → MLflow.

Each step is one call into one room (registry, recipes, the dataset, the model, tracking);
nothing reaches back.
"""

from __future__ import annotations

import csv
import json
import tempfile
from pathlib import Path

import numpy as np

from astrozoo import recipes, tracking
from astrozoo.interfaces import FitContext, RunResult
from astrozoo.metrics.regression import coverage
from astrozoo.plots import loss_curves
from astrozoo.registry import get_registry

SPLITS = ("train", "val", "test")


def resolve_device(requested: str) -> str:
    if requested == "cpu":
        return "cpu"
    try:
        from astrozoo.training import select_device
    except ImportError:  # torch not installed: only CPU models can run
        return "cpu"
    return str(select_device(requested))


def run(task_name: str, model_name: str, *, dataset: str | None = None, profile: str = "quick",
        seed: int = 0, overrides=(), device: str = "auto", resume: bool = False,
        register: str | None = None, echo=print) -> tuple[RunResult, str]:
    """Train and evaluate one model; return the result and the MLflow run id. With
    ``register``, the model is also registered under that name in MLflow's model registry."""
    registry = get_registry()
    task = registry.task(task_name)
    model_cls = registry.model(task_name, model_name)
    recipe = recipes.resolve(task_name, model_name, profile, overrides, dataset)
    dataset_cls = registry.dataset(task_name, recipe.dataset or task.default_dataset)
    tracking.check_reachable()
    device = resolve_device(device)
    fold = recipe.data.get("fold", -1)
    run_name = f"{task_name}/{model_name}/{profile}/seed{seed}" + (f"/fold{fold}" if fold >= 0 else "")
    resume_id = tracking.find_resumable(task_name, run_name) if resume else None
    if resume and not resume_id:
        echo(f"no unfinished run named {run_name} to resume; starting a new one")
    tags = {"task": task_name, "model": model_name, "dataset": dataset_cls.name,
            "provenance": dataset_cls.provenance, "profile": profile, "seed": seed, "device": device,
            "fold": fold}

    with tracking.start_run(task_name, run_name, tags, run_id=resume_id,
                            system_metrics=device.startswith("cuda")) as tracker:
        config = {"task": task_name, "model": model_name, "dataset": dataset_cls.name,
                  "profile": profile, "seed": seed, "device": device,
                  "params": recipe.params, "data": recipe.data}
        tracker.log_params(recipes.flatten({k: v for k, v in config.items() if k != "task"}))
        echo(f"[{run_name}] data: {dataset_cls.name} ({dataset_cls.provenance})")
        data = dataset_cls(**recipe.data)
        splits = {name: data.load(name) for name in SPLITS}
        tracker.log_params({f"data.n_{name}": len(split) for name, split in splits.items()})
        tracker.log_params({f"data.info.{k}": v for k, v in data.info().items()})

        _seed(seed)
        model = model_cls(**recipe.params)
        checkpoints = Path(".astrozoo") / "checkpoints" / tracker.run_id
        context = FitContext(tracker=tracker, device=device, seed=seed,
                             checkpoint_dir=checkpoints, resume=resume_id is not None)
        echo(f"[{run_name}] fitting on {len(splits['train'])} train / {len(splits['val'])} val ({device})")
        model.fit(splits["train"], splits["val"], context)

        predictions = {}
        for name in SPLITS:
            split = splits[name]
            pred = {"ids": split.ids, "y_true": split.y, "y_pred": np.asarray(model.predict(split))}
            std = model.predict_std(split)
            if std is not None:
                pred["y_std"] = np.asarray(std)
            predictions[name] = pred
        test = predictions["test"]
        extra = dict(task.evaluate(predictions, splits)) if task.evaluate is not None else {}
        scores = {name: extra[name] if name in extra else registry.metric(name)(test["y_true"], test["y_pred"])
                  for name in task.metrics}
        scores.update({name: value for name, value in extra.items() if name not in scores})
        if "y_std" in test:
            for z, label in ((1.0, "68"), (1.96, "95")):
                scores[f"coverage_{label}"] = coverage(test["y_true"], test["y_pred"], test["y_std"], z)
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
            version = tracking.log_registered_model(tracker, model, task_name, dataset_cls.name,
                                                    recipe.data, predictions["test"], register)
            echo(f"[{run_name}] registered model {register!r} version {version}")
        echo(f"[{run_name}] test metrics:")
        for name, value in scores.items():
            echo(f"  {name:>12s} = {value:.4f}")
        return result, tracker.run_id


def run_many(task_name: str, model_name: str, *, seeds=(0,), folds: int = 0, overrides=(),
             profile: str = "quick", echo=print, **kwargs) -> str:
    """Several seeds and/or K cross-validation folds as child runs of one parent MLflow run;
    the parent records mean and std of every test metric. Returns the parent's run id."""
    import itertools

    if folds:
        from astrozoo.data.splits import check_fold
        from astrozoo.errors import AstrozooError

        card = recipes.resolve(task_name, model_name, profile, overrides, kwargs.get("dataset"))
        registry = get_registry()
        dataset_cls = registry.dataset(task_name, card.dataset or registry.task(task_name).default_dataset)
        if not dataset_cls.folds:
            able = [n for n, c in registry.datasets.items() if c.task == task_name and c.folds]
            raise AstrozooError(f"--folds: dataset {dataset_cls.name!r} offers no cross-validation folds; "
                                f"datasets of {task_name!r} that do: {', '.join(able) or 'none'}")
        check_fold(0, folds)
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
        return parent.run_id


def _seed(seed: int) -> None:
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
        model_path = model.save(tmp / "model.pkl")
        tracker.log_artifact(model_path, "model")
        plots = tmp / "plots"
        plots.mkdir()
        paths = []
        if result.history:
            paths.append(loss_curves(result.history, result.best_epoch, plots / "loss_curves.png",
                                     title=f"{result.task.name} / {result.model_name}"))
        if result.task.report is not None:
            paths += result.task.report(result, plots)
        for path in paths:
            tracker.log_artifact(path, "plots")
