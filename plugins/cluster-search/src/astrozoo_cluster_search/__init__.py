"""astrozoo plugin: galaxy-cluster search in IR and microwave cutouts (Fomicheva 2025)."""
