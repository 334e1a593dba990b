"""Spatial K-fold cross-validation of the halo-mass datasets (data.fold, data.n_folds; --folds K)."""

import numpy as np
from test_dataset import catalogue

from astrozoo.registry import parameters
from astrozoo_halo_mass.dataset import MockTNG50


def test_folds_test_every_galaxy_once_and_keep_the_default_split(tmp_path):
    path = str(catalogue(tmp_path))
    tested = []
    for fold in range(4):
        data = MockTNG50(path=path, fold=fold, n_folds=4)
        splits = {s: set(data.load(s).ids) for s in ("train", "val", "test")}
        assert not (splits["train"] & splits["test"] or splits["val"] & splits["test"])
        assert data.info()["fold"] == f"{fold}/4"
        tested += list(splits["test"])
    assert sorted(tested) == list(range(600))  # each galaxy in exactly one test fold
    assert np.array_equal(MockTNG50(path=path).load("test").ids, MockTNG50(path=path, fold=-1).load("test").ids)
    assert {"fold", "n_folds"} <= set(parameters(MockTNG50))  # so --folds and --set data.fold reach it
