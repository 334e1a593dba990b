"""The group-finder ceiling: its group features count the whole catalogue, and it is declared a ceiling."""

import numpy as np
import pytest

from astrozoo.interfaces import FitContext, Split, TruthAccessError
from astrozoo_halo_mass.models.ceilings import GroupCeiling, group_columns


def catalogue_split(name="train", seed=0, n=200) -> Split:
    """Hosts of 1-4 galaxies; the halo mass grows with the host's total M*; half a host's members may sit
    outside the split (in the context)."""
    rng = np.random.default_rng(seed)
    host = np.sort(rng.integers(0, n // 3, n))
    log_mstar = rng.uniform(9.5, 11.0, n)
    total = np.log10(np.bincount(host, weights=10 ** log_mstar)[host])
    central = np.r_[True, host[1:] != host[:-1]]
    y = np.where(central, 1.5 * total - 4, log_mstar + 1.5)
    inside = rng.random(n) < 0.7
    cols = {"log_mstar": log_mstar, "is_central": central.astype(float), "host_id": host}
    return Split(name, ids=np.flatnonzero(inside), y=y[inside],
                 data={"columns": {k: v[inside] for k, v in cols.items()},
                       "context": {"log_mstar": log_mstar[~inside], "host_id": host[~inside]}}), host, log_mstar, inside


def test_group_columns_count_members_in_the_context_too():
    split, host, log_mstar, inside = catalogue_split()
    cols = group_columns(split)
    for k in range(len(split)):
        members = host == split.data["columns"]["host_id"][k]
        assert cols["n_members"][k] == members.sum()
        assert cols["log_mstar_group"][k] == pytest.approx(np.log10(np.sum(10 ** log_mstar[members])))


def test_group_ceiling_is_a_ceiling_that_reads_the_truth():
    train, val, test = (catalogue_split(name, seed)[0] for name, seed in (("train", 0), ("val", 1), ("test", 2)))
    model = GroupCeiling(n_jobs=1).fit(train, val, FitContext(seed=0))
    assert GroupCeiling.needs_truth
    rmse = np.sqrt(np.mean((model.predict(test) - test.y) ** 2))
    assert rmse < 0.5 * np.std(test.y)
    with pytest.raises(TruthAccessError):  # an ordinary model could not see what it reads
        model.predict(test.for_prediction(("host_id", "is_central")))
