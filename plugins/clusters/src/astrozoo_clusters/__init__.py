"""astrozoo plugin for galaxy clusters: X-CLASS candidates (Kosiba et al. 2020) and cool cores (Su et al. 2020)."""
