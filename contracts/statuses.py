"""A job's statuses, as the projection computes them and the API shows them."""

from typing import Literal, get_args

Status = Literal[
    "submitted", "stored", "converting", "deferred", "succeeded", "failed", "rejected", "cancelled"
]
# a status only moves forward; the terminal ones (rank 3) never move again
STATUS_RANK: dict[Status, int] = {
    "submitted": 0,
    "stored": 1,
    "converting": 2,
    "deferred": 2,
    "succeeded": 3,
    "failed": 3,
    "rejected": 3,
    "cancelled": 3,
}
TERMINAL_STATUSES = frozenset(s for s, rank in STATUS_RANK.items() if rank == 3)
assert set(STATUS_RANK) == set(get_args(Status)), "every status has its rank"
