"""docling-serve's v1 API on top of the job pipeline, so docling-serve's clients work unchanged.

The wire models mirror ``docling.datamodel.service`` (docling 2.143.0, docling-serve 1.38.2); the
docling package itself is not imported here (it pulls in torch). See CLAUDE.md, "docling-serve
compatibility".
"""
