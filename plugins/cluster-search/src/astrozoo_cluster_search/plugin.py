"""Hook implementations: what the cluster-search plugin adds to astrozoo.

Models and datasets are registered by import path, so that listing them imports no torch."""

from astrozoo import hookimpl
from astrozoo.recipes import recipe_folder

TASKS = ('cluster-search',)
MODELS = {  # (task, name): where the class lives, imported when the model is used
    ("cluster-search", "alexnet_vgg"): "astrozoo_cluster_search.models.networks:AlexNetVGG",
    ("cluster-search", "backbone"): "astrozoo_cluster_search.models.zoo:ZooClassifier",
    ("cluster-search", "baseline"): "astrozoo_cluster_search.models.baseline:Baseline",
    ("cluster-search", "cnn_mlp"): "astrozoo_cluster_search.models.networks:CNNMLP",
    ("cluster-search", "spinalnet_resnet"): "astrozoo_cluster_search.models.networks:SpinalNetResNet",
    ("cluster-search", "spinalnet_vgg"): "astrozoo_cluster_search.models.networks:SpinalNetVGG",
}
DATASETS = {  # (task, name, provenance): where the class lives
    ("cluster-search", "mock-ir", "mock"): "astrozoo_cluster_search.dataset:MockIR",
    ("cluster-search", "mock-microwave", "mock"): "astrozoo_cluster_search.dataset:MockMicrowave",
}


@hookimpl
def register_tasks(register):
    from astrozoo_cluster_search.task import TASK

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
