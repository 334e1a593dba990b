"""The cluster-search zoo: the generic timm ``backbone`` and the members that need code."""

from astrozoo_cluster_search.models.baseline import Baseline
from astrozoo_cluster_search.models.networks import AlexNetVGG, CNNMLP, SpinalNetResNet, SpinalNetVGG
from astrozoo_cluster_search.models.zoo import ZooClassifier

MODELS = [ZooClassifier, SpinalNetVGG, SpinalNetResNet, AlexNetVGG, CNNMLP, Baseline]
