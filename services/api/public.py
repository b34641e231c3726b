"""What a client may see of a job event: one allow-list of fields per event type.

The bus carries internals a client must never see (the upload's path on the server, the MCP
server's address, the owner hash, the staging object's name). Every public answer that shows an
event (the SSE stream, its JSON polling form) goes through :func:`public_envelope`; a field reaches a
client only if it is named here. An event type missing from the table shows no data at all.
"""

from __future__ import annotations

ENVELOPE_FIELDS = ("event_id", "job_id", "event_type", "schema_version", "occurred_at", "source")

PUBLIC_FIELDS: dict[str, tuple[str, ...]] = {
    "JobSubmitted": ("filename", "content_type", "size_bytes", "sha256"),  # not owner, staging_object
    "JobCancelRequested": (),
    "UploadStored": ("sha256", "size_bytes", "filename"),  # not path
    "UploadRejected": ("code", "message"),
    "ConversionStarted": (),  # not mcp_server
    "ConversionProgressed": ("stage", "progress"),
    "ConversionDeferred": ("code", "message", "reason", "retry_at", "stage"),
    "ConversionSucceeded": ("formats", "result_sha256", "duration_ms"),
    "ConversionFailed": ("code", "message", "recovery", "stage"),
    "JobCancelled": ("requested_by",),
}


def public_envelope(event_type: str, envelope: dict) -> dict:
    """The envelope's metadata and the event type's allowed facts, nothing else."""
    data = envelope.get("data", {})
    shown = {name: data[name] for name in PUBLIC_FIELDS.get(event_type, ()) if name in data}
    return {**{name: envelope[name] for name in ENVELOPE_FIELDS if name in envelope}, "data": shown}
