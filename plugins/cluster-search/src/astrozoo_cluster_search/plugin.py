"""Hook implementations: what the cluster-search plugin adds to astrozoo."""

from astrozoo import hookimpl
from astrozoo_cluster_search.dataset import DATASETS
from astrozoo_cluster_search.models import MODELS
from astrozoo_cluster_search.task import TASK


@hookimpl
def register_tasks(register):
    register(TASK)


@hookimpl
def register_datasets(register):
    for dataset in DATASETS:
        register(dataset)


@hookimpl
def register_models(register):
    for model in MODELS:
        register(model)

