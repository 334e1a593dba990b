"""Hook implementations: what the halo-mass plugin adds to astrozoo."""

from astrozoo import hookimpl
from astrozoo_halo_mass.dataset import DATASETS
from astrozoo_halo_mass.models import cnn, cnn_gnn, gnn
from astrozoo_halo_mass.models.forests import MODELS
from astrozoo_halo_mass.task import TASK


@hookimpl
def register_tasks(register):
    register(TASK)


@hookimpl
def register_datasets(register):
    for dataset in DATASETS:
        register(dataset)


@hookimpl
def register_models(register):
    for model in MODELS + gnn.MODELS + cnn.MODELS + cnn_gnn.MODELS:
        register(model)
