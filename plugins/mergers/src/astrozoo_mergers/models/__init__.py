"""The mergers models: the paper's CNN on each view and timm backbones (:mod:`.cnn`), and the
mock's ceiling (:mod:`.oracle`)."""

from astrozoo_mergers.models.cnn import VIEWS, Backbone, PaperCNN, PaperCNNModel, PaperCNNResidual, paper_cnn
from astrozoo_mergers.models.oracle import Oracle

MODELS = [PaperCNN, PaperCNNModel, PaperCNNResidual, Backbone, Oracle]
__all__ = ["MODELS", "VIEWS", "Backbone", "Oracle", "PaperCNN", "PaperCNNModel", "PaperCNNResidual", "paper_cnn"]
