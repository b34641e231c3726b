"""What a client may see of a job event: one allow-list of fields per event type.

The bus carries internals a client must never see (the upload's path on the server, the MCP
server's address, the owner hash, the staging object's name). Every public answer that shows an
event (the SSE stream, its JSON polling form) goes through :func:`public_envelope`; a field reaches a
client only if it is named here. An event type missing from the table shows no data at all.
"""

from __future__ import annotations

from contracts import events

ENVELOPE_FIELDS = ("event_id", "job_id", "event_type", "schema_version", "occurred_at", "source")

PUBLIC_FIELDS: dict[str, tuple[str, ...]] = {
    # not owner, staging_object
    events.JobSubmitted.event_type: ("filename", "content_type", "size_bytes", "sha256"),
    events.JobCancelRequested.event_type: (),
    events.UploadStored.event_type: ("sha256", "size_bytes", "filename"),  # not path
    events.UploadRejected.event_type: ("code", "message"),
    events.ConversionStarted.event_type: (),  # not mcp_server
    events.ConversionProgressed.event_type: ("stage", "progress"),
    events.ConversionDeferred.event_type: ("code", "message", "reason", "retry_at", "stage"),
    events.ConversionSucceeded.event_type: ("formats", "result_sha256", "duration_ms"),
    events.ConversionFailed.event_type: ("code", "message", "recovery", "stage"),
    events.JobCancelled.event_type: ("requested_by",),
}


def public_envelope(event_type: str, envelope: dict) -> dict:
    """The envelope's metadata and the event type's allowed facts, nothing else."""
    data = envelope.get("data", {})
    shown = {name: data[name] for name in PUBLIC_FIELDS.get(event_type, ()) if name in data}
    return {**{name: envelope[name] for name in ENVELOPE_FIELDS if name in envelope}, "data": shown}
