"""Test-wide settings: on CI, hypothesis explores a fixed sequence of examples so that a
submission's result does not depend on the luck of the draw (locally it explores afresh)."""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")
