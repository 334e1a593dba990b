"""Hook implementations: what the mergers plugin adds to astrozoo."""

from astrozoo import hookimpl


@hookimpl
def register_tasks(register):
    from astrozoo_mergers.task import TASK

    register(TASK)


@hookimpl
def register_datasets(register):
    from astrozoo_mergers.real import MergerChallenge
    from astrozoo_mergers.dataset import MockHSC

    register(MockHSC)
    register(MergerChallenge)


@hookimpl
def register_models(register):
    from astrozoo_mergers.models import MODELS

    for model in MODELS:
        register(model)
