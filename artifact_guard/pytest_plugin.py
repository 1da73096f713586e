"""pytest plugin of artifact-guard (entry point ``pytest11``).

Fixtures are registered here; see the README's "Testing" sections.
"""

from __future__ import annotations
