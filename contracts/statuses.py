"""A job's statuses, as the projection computes them and the API shows them."""

# a status only moves forward; the terminal ones (rank 3) never move again
STATUS_RANK = {
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
