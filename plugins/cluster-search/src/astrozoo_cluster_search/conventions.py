"""The label vocabulary of cluster-search, shared by the mock, the datasets and the figures
(and by a real loader, should one be added): one class per cutout."""

CLASSES = ("cluster", "source", "random")  # labels 0, 1, 2
