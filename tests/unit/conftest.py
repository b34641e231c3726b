import pytest


@pytest.fixture(autouse=True)
def no_session_token_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The e2e tests export DOCLING_JOBS_TOKEN for the real stack; the in-memory API of the unit
    tests issues its own session, so a token left in the environment must not reach it."""
    monkeypatch.delenv("DOCLING_JOBS_TOKEN", raising=False)
