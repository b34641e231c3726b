"""Each owner's bounded queue: a submission is refused (429, E117) while the owner already has
``API_OWNER_MAX_QUEUED`` jobs without an outcome, on either surface (``/api/v1`` and ``/v1``).

The count is the durable projection's (PostgreSQL), so it lags a submission by the moment the
progress service takes to project it: a burst can pass the cap by the jobs in flight, no more.
"""

from __future__ import annotations

from services.api.deps import Deps
from services.api.problems import Problem

RETRY_AFTER_S = 10  # a conversion of a small document takes a few seconds: come back then


async def make_room(deps: Deps, owner: str, adding: int = 1) -> None:
    """Raise ``Problem("E117")`` when ``adding`` more jobs would put the owner past the cap."""
    cap = deps.settings.owner_max_queued
    if not cap:
        return
    unfinished = await deps.read_model.unfinished_of(owner)
    if unfinished + adding > cap:
        raise Problem(
            "E117",
            f"You have {unfinished} unfinished jobs; at most {cap} may wait or convert at once.",
            headers={"Retry-After": str(RETRY_AFTER_S)},
        )
