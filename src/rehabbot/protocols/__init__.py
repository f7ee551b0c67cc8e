"""Therapy protocols: the schema, the bundled protocol files and the session runner."""
