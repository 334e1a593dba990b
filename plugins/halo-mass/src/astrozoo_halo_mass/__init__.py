"""astrozoo task plugin: dark-matter halo masses of galaxies (Jespersen-style TNG50 study)."""
