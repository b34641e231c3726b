import itertools
from collections.abc import Iterator

import httpx
import pytest

from devstack import Stack


@pytest.fixture(scope="session")
def api(stack: Stack) -> Iterator[httpx.Client]:
    """A client whose requests take turns across every API instance: a job submitted on one is
    followed, streamed and downloaded on the others."""
    instances = itertools.cycle([httpx.URL(url) for url in stack.api_urls])

    def next_instance(request: httpx.Request) -> None:
        target = next(instances)
        request.url = request.url.copy_with(host=target.host, port=target.port)
        request.headers["host"] = f"{target.host}:{target.port}"

    with httpx.Client(base_url=stack.urls.api, timeout=30.0, event_hooks={"request": [next_instance]}) as client:
        yield client
