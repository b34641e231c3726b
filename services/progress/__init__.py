"""Progress: projects every job event into Redis (live, disposable) and PostgreSQL (durable)."""
