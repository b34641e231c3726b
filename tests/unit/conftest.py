import os

import pytest

# The environment pytest started with, before any session fixture exported the real stack's
# settings (tests/conftest.py: fast reconnects, a short breaker reset, lifted rate limits, a token).
_STARTING_ENVIRONMENT = dict(os.environ)


@pytest.fixture(autouse=True)
def the_environment_pytest_started_with(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unit tests read the settings' defaults: what the e2e and integration fixtures exported for
    the real stack (in the same process, when the whole suite runs) must not reach them."""
    for name, value in list(os.environ.items()):
        if name not in _STARTING_ENVIRONMENT:
            monkeypatch.delenv(name)
        elif _STARTING_ENVIRONMENT[name] != value:
            monkeypatch.setenv(name, _STARTING_ENVIRONMENT[name])
    monkeypatch.delenv("DOCLING_JOBS_TOKEN", raising=False)  # the in-memory API issues its own
