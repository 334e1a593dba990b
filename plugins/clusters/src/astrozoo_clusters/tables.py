"""The papers' tables in their own shape, built from the MLflow runs for ``astrozoo compare``
(``Task.tables``): Kosiba et al. Table 5 (binary, mean ± std over seeds), the volunteers against
the experts, Table 6 (five classes, one vs all per class), and Su et al.'s results table (method ×
class). Ours come from the runs ``astrozoo compare`` read (:func:`astrozoo.compare.by_model`: latest finished run per seed and fold);
the paper's numbers, in parentheses, from the recipe cards' ``[paper.metrics]``."""

from __future__ import annotations

CANDIDATES = "cluster-candidates"
COOL_CORE = "cool-core"

# Table 5's rows in the paper's order: (model, the paper's name)
TABLE5 = (("cnn", "CN-E"), ("mobilenet", "MN-E"), ("cnn-optical", "CN-E solo optical"),
          ("cnn-xray", "CN-E solo x-ray"), ("cnn-volunteer", "CN-Z"), ("mobilenet-volunteer", "MN-Z"),
          ("cnn-noaug", "CN-E no augm."), ("mobilenet-noaug", "MN-E no augm."))
VOLUNTEERS = (("volunteers", "weighted (G_i = C_i/Q_i)"), ("volunteers-unweighted", "plain majority"))
# Table 6: (model, the paper's name); classes in the paper's row order (data set index, name)
TABLE6 = (("mobilenet-5class", "MN"), ("cnn-5class", "CN"))
TABLE6_CLASSES = ((0, "Low-z cluster"), (1, "High-z cluster"), (3, "Point source"), (2, "Nearby galaxy"),
                  (4, "Other"))
# Su et al.'s methods: (model, the paper's name)
SU_METHODS = (("resnet18", "Deep learning"), ("density", "Density"),
              ("concentration-rank", "Concentration (by rank)"), ("concentration", "Concentration (fixed cuts)"))
SU_CLASSES = ("CC", "WCC", "NCC")


def class_key(name: str) -> str:
    """A class name as it appears in metric names: 'low-z' → 'lowz'."""
    return "".join(c for c in name.lower() if c.isalnum())


def cell(ours, paper=None) -> str:
    """'0.912 ± 0.021 (0.900)': ours (mean ± std over runs, — when none), the paper's in parentheses."""
    text = "—" if ours is None else f"{ours[0]:.3f}" + (f" ± {ours[1]:.3f}" if ours[1] is not None else "")
    if paper is not None:  # as printed in the paper: two decimals, three where it gave three
        text += f" ({paper:.2f})" if round(paper, 2) == paper else f" ({paper:.3f})"
    return text


def _gather(task: str, rows: list) -> tuple[dict, dict]:
    from astrozoo import compare
    from astrozoo.registry import get_registry

    return compare.by_model(rows, get_registry().task(task).default_dataset), compare.paper_numbers(task)


def _footer(profile, dataset, paper: str) -> str:
    where = ", ".join(x for x in (f"profile {profile}" if profile else "", f"data {dataset}" if dataset else "") if x)
    return (f"Ours: mean ± std over the runs counted in 'runs' (seeds and folds; latest finished run of each)"
            + (f", {where}" if where else "") + f"; — where there is no run. In parentheses: {paper}, measured on "
            "the paper's real data — a reference, not a target; runs on `mock` data are not results on real data.")


def candidate_tables(rows: list, profile: str | None = None, dataset: str | None = None) -> str:
    """Kosiba et al. Table 5, the volunteers' table and Table 6 as markdown (``Task.tables``)."""
    ours, paper = _gather(CANDIDATES, rows)
    scores = (("accuracy", "A"), ("precision", "P"), ("recall", "R"), ("roc_auc", "AUC"))
    lines = ["## Kosiba et al. (2020) Table 5: cluster or not, mean ± std over seeds (paper)", "",
             "| network | model | runs | " + " | ".join(label for _, label in scores) + " |",
             "|---|---|---|" + "---|" * len(scores)]
    for model, label in TABLE5:
        mine = ours.get(model, {})
        lines.append(f"| {label} | `{model}` | {mine.get('seeds', 0)} | "
                     + " | ".join(cell(mine.get(m), paper.get(model, {}).get(m)) for m, _ in scores) + " |")

    lines += ["", "## Volunteers against the experts: the simulated Zooniverse votes on the test split (paper)", "",
              "| vote | model | runs | A | P | R |", "|---|---|---|---|---|---|"]
    for model, label in VOLUNTEERS:
        mine = ours.get(model, {})
        lines.append(f"| {label} | `{model}` | {mine.get('seeds', 0)} | "
                     + " | ".join(cell(mine.get(m), paper.get(model, {}).get(m)) for m, _ in scores[:3]) + " |")

    lines += ["", "## Kosiba et al. (2020) Table 6: five classes, each class one vs all (paper)", "",
              "| network | model | runs | class | A | P | R | AUC |", "|---|---|---|---|---|---|---|---|"]
    from astrozoo_clusters.candidates.conventions import SHORT

    for model, label in TABLE6:
        mine, theirs = ours.get(model, {}), paper.get(model, {})
        for index, name in TABLE6_CLASSES:
            key = class_key(SHORT[index])
            lines.append(f"| {label} | `{model}` | {mine.get('seeds', 0)} | {name} | "
                         + " | ".join(cell(mine.get(f"ova_{s}_{key}"), theirs.get(f"ova_{s}_{key}"))
                                      for s in ("accuracy", "precision", "recall", "auc")) + " |")
        lines.append(f"| {label} | `{model}` | {mine.get('seeds', 0)} | **mean** | "
                     + " | ".join(cell(mine.get(m), theirs.get(m))
                                  for m in ("ova_accuracy", "precision", "recall", "roc_auc")) + " |")
    lines += ["", _footer(profile, dataset, "Kosiba et al. 2020 (Tables 5 and 6; the volunteers: the slides' "
                                           "Zooniverse table)")
              + " Table 6's A is each class's one-vs-all accuracy; the mean row's A is their mean (the paper's "
              "multi-class 'accuracy'), its P, R and AUC the macro averages."]
    return "\n".join(lines) + "\n"


def cool_core_tables(rows: list, profile: str | None = None, dataset: str | None = None) -> str:
    """Su et al.'s results table (method, mean F1 and BAcc, per-class P, R, F1, BAcc) as markdown."""
    ours, paper = _gather(COOL_CORE, rows)
    lines = ["## Su et al. (2020) results table: per class one vs rest (paper)", "",
             "| method | model | runs | ave. F1 | ave. BAcc | class | precision | recall | F1 | BAcc |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for model, label in SU_METHODS:
        mine, theirs = ours.get(model, {}), paper.get(model, {})
        for i, name in enumerate(SU_CLASSES):
            key = name.lower()
            head = (f"| {label} | `{model}` | {mine.get('seeds', 0)} | {cell(mine.get('f1'), theirs.get('f1'))} | "
                    f"{cell(mine.get('bacc_ovr'), theirs.get('bacc_ovr'))} |" if i == 0 else "| | | | | |")
            lines.append(f"{head} {name} | "
                         + " | ".join(cell(mine.get(f"{s}_{key}"), theirs.get(f"{s}_{key}"))
                                      for s in ("precision", "recall", "f1", "bacc")) + " |")
    lines += ["", _footer(profile, dataset, "Su et al. 2020 (10-fold cross-validation on 318 TNG300 clusters; "
                                           "for the fixed C_SB cuts only the text's mean F1)")
              + " BAcc = ½(TPR + TNR) of each class against the rest; ave. = the mean over the three classes."]
    return "\n".join(lines) + "\n"
