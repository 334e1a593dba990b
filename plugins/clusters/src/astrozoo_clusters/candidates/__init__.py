"""cluster-candidates: X-CLASS-like X-ray + optical candidates (Kosiba et al. 2020)."""
