"""What the mock and the real X-CLASS loader share: the experts' five classes (Kosiba et al.
2020), which of them are clusters, and the archive's image size."""

CLASSES = ("low-z cluster", "high-z cluster", "nearby galaxy", "point source", "other")
SHORT = ("low-z", "hi-z", "galaxy", "point", "other")
CLUSTER_CLASSES = (0, 1)
PAPER_SIZE = 356  # px: the X-CLASS cutouts
