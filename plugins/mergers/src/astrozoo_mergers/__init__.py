"""astrozoo plugin: merger vs non-merger classification of galaxy images (Chudy et al.)."""
