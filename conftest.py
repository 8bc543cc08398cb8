"""Test configuration shared by tests/ and the doctests in src/."""

import matplotlib

matplotlib.use("Agg")
