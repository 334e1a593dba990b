"""Hook implementations: what the clusters plugin adds to astrozoo (two tasks, their data,
models and per-class metrics)."""

from astrozoo import hookimpl
from astrozoo_clusters.candidates.dataset import DATASETS as CANDIDATE_DATASETS
from astrozoo_clusters.candidates.task import TASK as CANDIDATES
from astrozoo_clusters.coolcore.dataset import DATASETS as COOL_CORE_DATASETS
from astrozoo_clusters.coolcore.task import TASK as COOL_CORE
from astrozoo_clusters.metrics import METRICS
from astrozoo_clusters.models import baselines, kosiba, resnet, volunteers


@hookimpl
def register_tasks(register):
    register(CANDIDATES)
    register(COOL_CORE)


@hookimpl
def register_datasets(register):
    for dataset in CANDIDATE_DATASETS + COOL_CORE_DATASETS:
        register(dataset)


@hookimpl
def register_models(register):
    for model in kosiba.MODELS + volunteers.MODELS + resnet.MODELS + baselines.MODELS:
        register(model)


@hookimpl
def register_metrics(register):
    for metric in METRICS:
        register(metric)
