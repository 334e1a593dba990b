"""Hook implementations: what the clusters plugin adds to astrozoo (two tasks, their data,
models and per-class metrics).

Models and datasets are registered by import path, so that listing them imports no torch."""

from astrozoo import hookimpl
from astrozoo.recipes import recipe_folder

TASKS = ('cluster-candidates', 'cool-core')
MODELS = {  # (task, name): where the class lives, imported when the model is used
    ("cluster-candidates", "cnn"): "astrozoo_clusters.models.kosiba:CustomCNN",
    ("cluster-candidates", "cnn-5class"): "astrozoo_clusters.models.kosiba:CustomCNN5",
    ("cluster-candidates", "cnn-noaug"): "astrozoo_clusters.models.kosiba:CustomCNNNoAug",
    ("cluster-candidates", "cnn-optical"): "astrozoo_clusters.models.kosiba:CustomCNNOptical",
    ("cluster-candidates", "cnn-volunteer"): "astrozoo_clusters.models.kosiba:CustomCNNVolunteer",
    ("cluster-candidates", "cnn-xray"): "astrozoo_clusters.models.kosiba:CustomCNNXray",
    ("cluster-candidates", "mobilenet"): "astrozoo_clusters.models.kosiba:MobileNet",
    ("cluster-candidates", "mobilenet-5class"): "astrozoo_clusters.models.kosiba:MobileNet5",
    ("cluster-candidates", "mobilenet-noaug"): "astrozoo_clusters.models.kosiba:MobileNetNoAug",
    ("cluster-candidates", "mobilenet-volunteer"): "astrozoo_clusters.models.kosiba:MobileNetVolunteer",
    ("cluster-candidates", "volunteers"): "astrozoo_clusters.models.volunteers:VolunteerVote",
    ("cluster-candidates", "volunteers-unweighted"): "astrozoo_clusters.models.volunteers:UnweightedVote",
    ("cool-core", "concentration"): "astrozoo_clusters.models.baselines:Concentration",
    ("cool-core", "concentration-rank"): "astrozoo_clusters.models.baselines:ConcentrationRank",
    ("cool-core", "density"): "astrozoo_clusters.models.baselines:Density",
    ("cool-core", "resnet18"): "astrozoo_clusters.models.resnet:CoolCoreResNet",
}
DATASETS = {  # (task, name, provenance): where the class lives
    ("cool-core", "mock-cool-core", "mock"): "astrozoo_clusters.coolcore.dataset:MockCoolCore",
    ("cluster-candidates", "mock-xclass", "mock"): "astrozoo_clusters.candidates.dataset:MockXClass",
    ("cluster-candidates", "xclass", "real"): "astrozoo_clusters.candidates.dataset:XClass",
}


@hookimpl
def register_tasks(register):
    from astrozoo_clusters.candidates.task import TASK as CANDIDATES
    from astrozoo_clusters.coolcore.task import TASK as COOL_CORE

    register(CANDIDATES)
    register(COOL_CORE)


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


@hookimpl
def register_metrics(register):
    from astrozoo_clusters.metrics import METRICS

    for metric in METRICS:
        register(metric)
