"""Cases work on the demo's lateral-movement data (the investigate tests' fixtures)."""

from tests.investigate.conftest import demo_data, demo_folder

__all__ = ["demo_data", "demo_folder"]
