"""cool-core: CC / WCC / NCC clusters from mock Chandra images (Su et al. 2020)."""
