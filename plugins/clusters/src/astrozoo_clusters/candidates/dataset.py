"""cluster-candidates datasets: the embedded mock (default) and the public X-CLASS folder.

Both are read from the shared HDF5 format — ``catalogue`` (object_id, expert_class, ...),
``images/rgb`` (N, 3, S, S) uint8 [empty, optical, X-ray] and, for the mock, the volunteers'
``votes`` — written once to the cache and reused.

Data parameters
- ``classes``: ``"binary"`` (1 = cluster, 0 = not; y_pred is P(cluster)) or ``"multiclass"``
  (0 low-z, 1 high-z, 2 nearby galaxy, 3 point source, 4 other).
- ``labels``: ``"expert"`` or ``"volunteer"`` — the labels of the train and val splits; test is
  always scored against the experts (as in the paper). Volunteer labels are the G-weighted
  majority (see :mod:`volunteers`): binary = cluster when clusters (low-z + high-z) hold at least
  half of the weighted class votes; multiclass = the answer with the largest weighted vote.
- ``fold`` / ``n_folds``: −1 gives the default split; k = 0..K−1 gives stratified fold k as test,
  fold k+1 as validation, the rest for training (10-fold cross-validation in the paper).
  Mock default split: a balanced test set of 10 % of the objects (half clusters, like the paper's
  85 + 85 of 1707), then 20 % of the rest for validation (paper: 304 of 1537). Real default
  split: the archive's test.csv; 20 % of train.csv (stratified) for validation.
"""

from __future__ import annotations

import sys
from functools import cached_property
from pathlib import Path

import numpy as np

from astrozoo.data import store
from astrozoo.data.cache import cached
from astrozoo.data.splits import check_fold, fold_split, kfold
from astrozoo.errors import AstrozooError
from astrozoo.interfaces import Dataset, Split
from astrozoo_clusters.candidates import volunteers as vol
from astrozoo_clusters.candidates.conventions import CLUSTER_CLASSES, PAPER_SIZE, SHORT
from astrozoo_clusters.candidates.mock import VERSION

CLASS_MODES = ("binary", "multiclass")
LABEL_SOURCES = ("expert", "volunteer")


class CandidateDataset(Dataset):
    task = "cluster-candidates"
    folds = True

    def __init__(self, seed: int = 0, image_size: int = PAPER_SIZE, classes: str = "binary",
                 labels: str = "expert", fold: int = -1, n_folds: int = 10, val_fraction: float = 0.2,
                 path: str = "", **extra):
        super().__init__(seed=seed, image_size=image_size, classes=classes, labels=labels, fold=fold,
                         n_folds=n_folds, val_fraction=val_fraction, path=path, **extra)
        if classes not in CLASS_MODES:
            raise AstrozooError(f"data.classes={classes!r}: choose {' or '.join(CLASS_MODES)}")
        if labels not in LABEL_SOURCES:
            raise AstrozooError(f"data.labels={labels!r}: choose {' or '.join(LABEL_SOURCES)}")
        check_fold(fold, n_folds)
        self.seed, self.image_size, self.classes, self.labels = seed, image_size, classes, labels
        self.fold, self.n_folds, self.val_fraction, self.path = fold, n_folds, val_fraction, path

    # -- what subclasses provide ----------------------------------------------------------------
    def default_split(self, expert: np.ndarray, columns: dict) -> np.ndarray:
        raise NotImplementedError

    # -- shared machinery -----------------------------------------------------------------------
    @cached_property
    def table(self) -> tuple[dict, dict]:
        path = self.data_file()
        columns, attrs = store.read(path, "catalogue", required=("object_id", "expert_class"))
        expert = columns["expert_class"]
        if expert.min() < 0 or expert.max() >= len(SHORT):
            raise AstrozooError(f"{path}: expert_class outside 0..{len(SHORT) - 1}")
        return columns, attrs

    @cached_property
    def images(self) -> np.ndarray:
        path = self.data_file()
        images, _ = store.read(path, "images", required=("rgb",))
        images = images["rgb"]
        expected = (len(self.table[0]["object_id"]), 3, self.image_size, self.image_size)
        if images.ndim == 4 and images.shape[0] != expected[0]:
            raise AstrozooError(f"{path}: labels do not match the images: the catalogue lists {expected[0]} "
                                f"objects, images/rgb holds {images.shape[0]}")
        if images.shape != expected:
            raise AstrozooError(f"{path}: images have shape {images.shape}, expected {expected} "
                                "(N, [empty, optical, X-ray], size, size)")
        return images

    @cached_property
    def votes(self) -> dict | None:
        try:
            votes, _ = store.read(self.data_file(), "votes", required=("object", "volunteer", "question", "answer"))
        except store.DataError:
            return None
        return votes

    @cached_property
    def shares(self) -> dict[str, np.ndarray] | None:
        """Volunteers' weighted and unweighted class-vote shares (N, 5), when there are votes."""
        if self.votes is None:
            return None
        n = len(self.table[0]["object_id"])
        return {"weighted": vol.vote_shares(self.votes, n, 0, len(SHORT), weighted=True),
                "unweighted": vol.vote_shares(self.votes, n, 0, len(SHORT), weighted=False)}

    @cached_property
    def split_of(self) -> np.ndarray:
        columns, _ = self.table
        expert = columns["expert_class"]
        if self.fold >= 0:
            return fold_split(expert, self.fold, self.n_folds, self.seed)
        return self.default_split(expert, columns)

    def _val_from(self, pool: np.ndarray, expert: np.ndarray, out: np.ndarray) -> None:
        """Move a stratified ``val_fraction`` of the ``pool`` rows to 'val'."""
        k = max(2, int(round(1 / self.val_fraction)))
        folds = kfold(expert[pool], k, self.seed + 1)
        out[pool[folds == 0]] = "val"

    def _target(self, expert_or_shares: np.ndarray, source: str) -> np.ndarray:
        if source == "expert":
            cls = expert_or_shares
            return np.isin(cls, CLUSTER_CLASSES).astype(np.int64) if self.classes == "binary" else cls
        shares = expert_or_shares
        if self.classes == "binary":
            return (vol.cluster_probability(shares) >= 0.5).astype(np.int64)
        return shares.argmax(axis=1).astype(np.int64)

    def load(self, split: str) -> Split:
        columns, attrs = self.table
        rows = np.arange(len(columns["object_id"])) if split == "all" else np.flatnonzero(self.split_of == split)
        if rows.size == 0:
            raise AstrozooError(f"{self.name}: split {split!r} is empty")
        expert = columns["expert_class"][rows]
        source = self.labels if split in ("train", "val") else "expert"
        if source == "volunteer":
            if self.shares is None:
                raise AstrozooError(f"{self.name}: data.labels='volunteer' needs volunteer votes, "
                                    f"and {self.data_file()} has none")
            y = self._target(self.shares["weighted"][rows], "volunteer")
        else:
            y = self._target(expert, "expert")
        data = {"images": lambda: self.images[rows].astype(np.float32) / 255.0,
                "columns": {k: v[rows] for k, v in columns.items()},
                "expert_class": expert, "classes": self.classes, "labels": source,
                "class_names": SHORT if self.classes == "multiclass" else ("non-cluster", "cluster")}
        if self.shares is not None:
            data["volunteer_shares"] = {k: v[rows] for k, v in self.shares.items()}
        return Split(name=split, ids=columns["object_id"][rows], y=y, data=data)

    def info(self) -> dict:
        columns, attrs = self.table
        expert = columns["expert_class"]
        info = {"file": str(self.data_file()), "n_objects": len(expert), "image_size": self.image_size,
                "classes": self.classes, "labels": self.labels, "fold": self.fold, "n_folds": self.n_folds,
                "provenance": attrs.get("provenance", self.provenance),
                **{f"n_{name}": int((expert == k).sum()) for k, name in enumerate(SHORT)},
                **{f"n_{s}": int((self.split_of == s).sum()) for s in ("train", "val", "test")}}
        if self.shares is not None:
            truth = np.isin(expert, CLUSTER_CLASSES)
            test = self.split_of == "test"
            for kind, shares in self.shares.items():
                vote = vol.cluster_probability(shares) >= 0.5
                for where, sel in (("all", slice(None)), ("test", test)):
                    scores = vol.binary_scores(truth[sel], vote[sel])
                    info.update({f"volunteers_{kind}_{where}_{k}": round(v, 4) if isinstance(v, float) else v
                                 for k, v in scores.items()})
        return info


class MockXClass(CandidateDataset):
    """The embedded default: mock X-CLASS candidates with simulated volunteers, made on first use."""

    name = "mock-xclass"
    provenance = "mock"
    description = "mock XMM + DSS2 cluster candidates with Zooniverse-like volunteer votes; see docs/tasks/clusters.md"

    def __init__(self, seed: int = 0, n_objects: int = 1707, image_size: int = PAPER_SIZE,
                 classes: str = "binary", labels: str = "expert", fold: int = -1, n_folds: int = 10,
                 val_fraction: float = 0.2, test_fraction: float = 0.1, votes_per_object: int = 30,
                 path: str = ""):
        super().__init__(seed=seed, image_size=image_size, classes=classes, labels=labels, fold=fold,
                         n_folds=n_folds, val_fraction=val_fraction, path=path, n_objects=n_objects,
                         test_fraction=test_fraction, votes_per_object=votes_per_object)
        self.n_objects, self.test_fraction, self.votes_per_object = n_objects, test_fraction, votes_per_object

    version = str(VERSION)

    def cache_params(self) -> dict:
        return {"seed": self.seed, "n_objects": self.n_objects, "image_size": self.image_size,
                "votes_per_object": self.votes_per_object}

    def generate(self, output: Path) -> Path:
        """Draw the candidates, their images and the volunteers' votes (seeded) into ``output``."""
        return write_mock(output, self.seed, self.n_objects, self.image_size, self.votes_per_object)

    def default_split(self, expert, columns):
        rng = np.random.default_rng(self.seed)
        is_cluster = np.isin(expert, CLUSTER_CLASSES)
        n_each = max(1, int(round(self.test_fraction * len(expert) / 2)))
        out = np.full(len(expert), "train", dtype="<U5")
        for group in (np.flatnonzero(is_cluster), np.flatnonzero(~is_cluster)):
            if len(group) <= n_each:
                raise AstrozooError(f"{self.name}: too few objects for a balanced test set of {2 * n_each}")
            out[rng.choice(group, n_each, replace=False)] = "test"
        self._val_from(np.flatnonzero(out == "train"), expert, out)
        return out


def write_mock(path: Path, seed: int, n_objects: int, size: int, votes_per_object: int) -> Path:
    from astrozoo_clusters.candidates.mock import generate

    print(f"generating mock-xclass (seed {seed}, {n_objects} candidates, {size} px, once)", file=sys.stderr)
    columns, images, attrs = generate(seed=seed, n_objects=n_objects, size=size)
    votes, volunteers = vol.simulate_votes(columns["expert_class"], columns["counts"], seed=seed + 7919,
                                           votes_per_object=votes_per_object)
    attrs = {**attrs, "votes_per_object": votes_per_object, "questions": ",".join(vol.QUESTIONS)}
    return store.write(path, {"catalogue": columns, "images": {"rgb": images}, "votes": votes,
                              "volunteers": volunteers}, attrs,
                       {"z": "", "log_m500": "log10 Msun", "counts": "counts", "theta_c": "arcsec",
                        "exposure": "s", "seeing": "arcsec"})


class XClass(CandidateDataset):
    """The public X-CLASS data of Kosiba et al. (2020): ``--set data.path=/where/Kosiba2020``."""

    name = "xclass"
    provenance = "real"
    description = "real X-CLASS candidates (Kosiba et al. 2020, Zenodo 7236582): PNG images + CSV labels"

    #: the converter's version, part of the cache key: bump it when load_folder converts differently
    version = "1"

    def data_file(self) -> Path:
        """The archive converted once to the HDF5 format, keyed by its files' sizes and
        modification times: a changed archive is converted again."""
        from astrozoo_clusters.candidates.real import find_root, load_folder

        if not self.path:
            raise AstrozooError("dataset xclass needs the unzipped archive: --set data.path=/path/to/Kosiba2020")
        root = find_root(self.path)

        def convert(output: Path) -> Path:
            columns, images, attrs = load_folder(root, self.image_size)
            return store.write(output, {"catalogue": columns, "images": {"rgb": images}}, attrs)

        return cached(self.task, self.name, {"root": str(root.resolve()), "image_size": self.image_size},
                      self.version, convert, sources=[root])

    def default_split(self, expert, columns):
        out = np.where(columns["file_split"] == "test", "test", "train").astype("<U5")
        self._val_from(np.flatnonzero(out == "train"), expert, out)
        return out


DATASETS = [MockXClass, XClass]
