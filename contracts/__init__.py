"""The shared vocabulary of docling-jobs: envelope, events, subjects, error codes, checkpoints.

Every service imports from here and from nowhere else in the project.
"""
