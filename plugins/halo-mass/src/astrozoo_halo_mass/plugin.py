"""Hook implementations: what the halo-mass plugin adds to astrozoo.

Models and datasets are registered by import path, so that listing them imports no torch."""

from astrozoo import hookimpl
from astrozoo.recipes import recipe_folder

TASKS = ('halo-mass',)
MODELS = {  # (task, name): where the class lives, imported when the model is used
    ("halo-mass", "cnn"): "astrozoo_halo_mass.models.cnn:CNN",
    ("halo-mass", "cnn-gnn"): "astrozoo_halo_mass.models.cnn_gnn:CNNGNN",
    ("halo-mass", "combined"): "astrozoo_halo_mass.models.forests:Combined",
    ("halo-mass", "gnn"): "astrozoo_halo_mass.models.gnn:GNN",
    ("halo-mass", "group-ceiling"): "astrozoo_halo_mass.models.ceilings:GroupCeiling",
    ("halo-mass", "morphological"): "astrozoo_halo_mass.models.forests:Morphological",
    ("halo-mass", "oracle"): "astrozoo_halo_mass.models.forests:Oracle",
    ("halo-mass", "overdensity"): "astrozoo_halo_mass.models.forests:Overdensity",
    ("halo-mass", "simple"): "astrozoo_halo_mass.models.forests:Simple",
    ("halo-mass", "xgboost"): "astrozoo_halo_mass.models.forests:XGBoost",
}
DATASETS = {  # (task, name, provenance): where the class lives
    ("halo-mass", "mock-tng100", "mock"): "astrozoo_halo_mass.dataset:MockTNG100",
    ("halo-mass", "mock-tng300", "mock"): "astrozoo_halo_mass.dataset:MockTNG300",
    ("halo-mass", "mock-tng50", "mock"): "astrozoo_halo_mass.dataset:MockTNG50",
    ("halo-mass", "tng", "real"): "astrozoo_halo_mass.dataset:TNG",
}


@hookimpl
def register_tasks(register):
    from astrozoo_halo_mass.task import TASK

    register(TASK)


@hookimpl
def register_datasets(register):
    for (task, name, provenance), target in DATASETS.items():
        register(target, name=name, task=task, provenance=provenance)


@hookimpl
def register_models(register):
    for (task, name), target in MODELS.items():
        register(target, name=name, tasks=(task,))


@hookimpl
def register_recipes(register):
    register(recipe_folder(__file__), tasks=TASKS)
