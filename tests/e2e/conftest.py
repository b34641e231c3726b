import os
from collections.abc import Iterator

import httpx
import pytest

from devstack import Stack
from docling_jobs.session import TOKEN_ENV
from tests.e2e.helpers import new_session, rotating_client


@pytest.fixture(scope="session", autouse=True)
def session_token(stack: Stack) -> Iterator[str]:
    """The session the e2e tests work in; the Python client and the CLI pick it up from
    ``DOCLING_JOBS_TOKEN``, so jobs one submits the others may follow."""
    token = new_session(stack.urls.api)
    os.environ[TOKEN_ENV] = token
    yield token
    os.environ.pop(TOKEN_ENV, None)


@pytest.fixture(scope="session")
def api(stack: Stack, session_token: str) -> Iterator[httpx.Client]:
    """A client whose requests take turns across every API instance: a job submitted on one is
    followed, streamed and downloaded on the others."""
    with rotating_client(stack, session_token) as client:
        yield client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
