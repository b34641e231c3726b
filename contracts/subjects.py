"""Subject and stream names: the one place they are spelled."""

STREAM = "JOBS"
SUBJECT_PREFIX = "jobs"
ALL_JOB_EVENTS = f"{SUBJECT_PREFIX}.>"
STAGING_BUCKET = "uploads-staging"

# The progress service's durable consumer of every job event (a restore recreates it): its name, its
# fetch size, and how many unacknowledged messages it hands out across all copies (room for every
# copy's batch: the default, 1000, would stall a fifth copy's fetch until its timeout).
PROGRESS_CONSUMER = "progress"
PROGRESS_BATCH = 512
PROGRESS_MAX_ACK_PENDING = 16 * PROGRESS_BATCH


OUTCOME = "outcome"


def event_subject(job_id: str, event_type: str, terminal: bool = False) -> str:
    """``jobs.<job_id>.<EventType>``; a terminal event goes to the job's one outcome subject.

    Every terminal event of a job shares ``jobs.<job_id>.outcome`` and is published with
    ``Nats-Expected-Last-Subject-Sequence: 0``, so JetStream accepts exactly one per job.
    """
    return outcome_subject(job_id) if terminal else f"{SUBJECT_PREFIX}.{job_id}.{event_type}"


def outcome_subject(job_id: str) -> str:
    return f"{SUBJECT_PREFIX}.{job_id}.{OUTCOME}"


def job_events(job_id: str) -> str:
    """Every event of one job."""
    return f"{SUBJECT_PREFIX}.{job_id}.>"


def any_job(event_type: str) -> str:
    return f"{SUBJECT_PREFIX}.*.{event_type}"
