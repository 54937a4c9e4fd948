"""Test-session set-up: every test (and every subprocess a test starts) uses a private code cache,
never the user's ``~/.cache/symflow``."""
import tempfile

import pytest


@pytest.fixture(scope="session", autouse=True)
def private_code_cache():
    """``SYMFLOW_CACHE`` points at a temporary folder for the whole session (removed afterwards)."""
    with tempfile.TemporaryDirectory(prefix="symflow-test-cache-") as folder, pytest.MonkeyPatch.context() as mp:
        mp.setenv("SYMFLOW_CACHE", folder)
        yield folder
