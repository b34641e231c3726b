"""Subject and stream names: the one place they are spelled."""

STREAM = "JOBS"
SUBJECT_PREFIX = "jobs"
ALL_JOB_EVENTS = f"{SUBJECT_PREFIX}.>"
STAGING_BUCKET = "uploads-staging"


def event_subject(job_id: str, event_type: str) -> str:
    """``jobs.<job_id>.<EventType>``: one subject per job and fact."""
    return f"{SUBJECT_PREFIX}.{job_id}.{event_type}"


def job_subjects(job_id: str) -> str:
    return f"{SUBJECT_PREFIX}.{job_id}.*"


def any_job(event_type: str) -> str:
    return f"{SUBJECT_PREFIX}.*.{event_type}"
