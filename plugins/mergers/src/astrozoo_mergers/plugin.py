"""Hook implementations: what the mergers plugin adds to astrozoo.

Models and datasets are registered by import path, so that listing them imports no torch."""

from astrozoo import hookimpl
from astrozoo.recipes import recipe_folder

TASKS = ('mergers',)
MODELS = {  # (task, name): where the class lives, imported when the model is used
    ("mergers", "cnn-model"): "astrozoo_mergers.models.cnn:PaperCNNModel",
    ("mergers", "cnn-raw"): "astrozoo_mergers.models.cnn:PaperCNN",
    ("mergers", "cnn-residual"): "astrozoo_mergers.models.cnn:PaperCNNResidual",
    ("mergers", "oracle"): "astrozoo_mergers.models.oracle:Oracle",
    ("mergers", "resnet18"): "astrozoo_mergers.models.cnn:Backbone",
}
DATASETS = {  # (task, name, provenance): where the class lives
    ("mergers", "merger-challenge", "real"): "astrozoo_mergers.real:MergerChallenge",
    ("mergers", "mock-hsc", "mock"): "astrozoo_mergers.dataset:MockHSC",
}


@hookimpl
def register_tasks(register):
    from astrozoo_mergers.task import TASK

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
