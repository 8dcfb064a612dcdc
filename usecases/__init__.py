"""Trazo's application layer: each use case written once, free of any web framework.

The command line, the HTTP routes and the job workers (all in ``api/``) are adapters
that call these; settings are read by the adapters and passed in as arguments.
"""
