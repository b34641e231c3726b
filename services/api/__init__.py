"""API: the public HTTP edge (Litestar). Emits JobSubmitted; reads projections and results."""
