"""Top-level pytest configuration: hypothesis profiles chosen by HYPOTHESIS_PROFILE.

- ``dev`` (default): quick feedback while editing.
- ``ci``: what `.ci/run` uses; fits comfortably in CI's time.
- ``nightly``: thorough; ``make nightly``.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

# pytester runs the README examples and the plugin tests in-process.
pytest_plugins = ["pytester"]

settings.register_profile("dev", max_examples=25, deadline=None)
settings.register_profile(
    "ci", max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True
)
settings.register_profile(
    "nightly", max_examples=10_000, deadline=None, suppress_health_check=list(HealthCheck)
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))
