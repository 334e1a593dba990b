"""Every installed built-in model, dataset and card keeps the plugin contract (astrozoo.testing),
on small versions of each task's mock. The built-ins' test, beside them: the core's tests
(tests/test_contracts.py) check that the checks catch what they are for, on the toy task. Skipped
when no built-in plugin is installed."""


import numpy as np
import pytest

from astrozoo.data import store
from astrozoo.errors import AstrozooError
from astrozoo.registry import get_registry
from astrozoo.testing import check_cards, check_dataset, check_model, one_thread  # noqa: F401

#: small versions of each built-in mock (a few seconds to make; the mergers one, with its Sérsic
#: fits, about 20 CPU-s); halo-mass reads 300 galaxies of the default mock (see `tiny`)
TINY_DATA = {
    "mergers/mock-hsc": dict(seed=3, n_major=3, n_nonmerger=5, keep=0.3, image_size=32, fit_size=64,
                             max_sources=2, z_min=0.76, z_max=1.0, workers=1, fractions=[0.5, 0.25, 0.25]),
    "cluster-candidates/mock-xclass": dict(n_objects=80, image_size=32, votes_per_object=10),
    "cool-core/mock-cool-core": dict(box_mpc=130.0, image_size=32, n_folds=4),
    "cluster-search/mock-ir": dict(n_per_class=10, image_size=32),
    "cluster-search/mock-microwave": dict(n_per_class=10, image_size=32),
}
#: model parameters the tiny data need beyond astrozoo.testing.FAST, and why
TINY_PARAMS = {
    # statmorph needs 224 px renderings (~0.8 CPU-s a galaxy): the default suite checks these
    # forests on catalogue columns; test_morphology_forests_on_their_cards (slow) on the card's
    **{f"halo-mass/{m}": {"features": ["log_mstar", "delta_g"]} for m in ("morphological", "combined", "xgboost")},
    "halo-mass/cnn-gnn": {"clusters": 4},  # 24 METIS clusters of 64 galaxies leave 1-galaxy batches
    **{f"mergers/cnn-{v}": {"padding": "same"} for v in ("raw", "model", "residual")},  # 32 px < valid kernels
    # no resizing of the 32 px cutouts to the networks' 96 or 224 px
    **{f"cluster-candidates/{m}": {"input_size": 0} for m in ("mobilenet", "mobilenet-5class", "mobilenet-noaug",
                                                             "mobilenet-volunteer")},
    **{f"cluster-search/{m}": {"input_size": 0} for m in ("efficientnet", "mobilenet")},
}
SLOW_MODELS = ("halo-mass/morphological", "halo-mass/combined", "halo-mass/xgboost")

REGISTRY = get_registry()
BUILT_IN = ("halo-mass", "mergers", "cluster-candidates", "cool-core", "cluster-search")
if not any(task in REGISTRY.tasks for task in BUILT_IN):
    pytest.skip("no built-in task plugin is installed", allow_module_level=True)
MODELS = REGISTRY.list_names()["models"]
DATASETS = REGISTRY.list_names()["datasets"]


@pytest.fixture(scope="session")
def tiny(tmp_path_factory):
    """Dataset parameters of a small version of each built-in mock, by ``task/dataset``."""
    cache = tmp_path_factory.getbasetemp() / "cache"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ASTROZOO_CACHE", str(cache))
        source = REGISTRY.dataset("halo-mass", "mock-tng50")().catalogue_file()
    columns, attrs = store.read(source, "catalogue")
    rows = np.sort(np.random.default_rng(0).choice(len(columns["galaxy_id"]), 300, replace=False))
    path = store.write(tmp_path_factory.mktemp("halo-mass") / "tiny.h5",
                       {"catalogue": {k: v[rows] for k, v in columns.items()}}, attrs)
    # the larger boxes differ from mock-tng50 only in what they generate (30 and 70 s here): their
    # loading is checked on the same small catalogue, their full size in test_the_larger_boxes (slow)
    small = dict(path=str(path), image_size=32)
    return {**TINY_DATA, **{f"halo-mass/mock-{box}": small for box in ("tng50", "tng100", "tng300")}}


@pytest.fixture(autouse=True)
def cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("ASTROZOO_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


def data_of(key: str, tiny) -> dict:
    task, model = key.split("/")
    recipe = get_registry().resolve(task, model)
    return tiny[f"{task}/{recipe.dataset or REGISTRY.task(task).default_dataset}"]


@pytest.mark.parametrize("key", MODELS)
def test_every_model_keeps_the_contract(key, tiny):
    task, model = key.split("/")
    out = check_model(task, model, data=data_of(key, tiny), params=TINY_PARAMS.get(key))
    assert len(out["predictions"]) == len(out["splits"][2])


@pytest.mark.slow
@pytest.mark.parametrize("key", SLOW_MODELS)
def test_morphology_forests_on_their_cards(key, tiny):
    task, model = key.split("/")
    check_model(task, model, data=data_of(key, tiny))


@pytest.mark.parametrize("key", DATASETS)
def test_every_dataset_keeps_the_contract(key, tiny):
    task, name = key.split("/")
    if REGISTRY.dataset(task, name).provenance == "real":  # its files are not here: one clear line
        data = next((r.data for r in get_registry().recipes(task) if r.dataset == name), {})
        with pytest.raises(AstrozooError) as error:
            REGISTRY.dataset(task, name)(**data).load("train")
        assert len(str(error.value).splitlines()) == 1
        return
    skip = ("morphology",) if task == "halo-mass" else ()  # statmorph: see TINY_PARAMS
    splits = check_dataset(task, name, skip=skip, **tiny[key])
    assert all(len(split) for split in splits.values())


@pytest.mark.slow
@pytest.mark.parametrize("name", ["mock-tng100", "mock-tng300"])
def test_the_larger_boxes(name):
    check_dataset("halo-mass", name, skip=("morphology", "images"))


@pytest.mark.parametrize("task", REGISTRY.list_names()["tasks"])
def test_every_card_builds_its_model_and_dataset(task):
    assert check_cards(task)


def test_shipped_cards_are_valid():
    registry = get_registry()
    assert registry.problems == []
    cards = registry.recipes()
    assert {r.task for r in cards} >= {"halo-mass"}
    for card in cards:
        for profile in card.profiles:
            registry.resolve(card.task, card.model, profile)
