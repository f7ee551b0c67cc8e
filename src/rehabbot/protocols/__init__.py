"""Therapy protocols: the schema, the bundled protocol files, the phased controller, progression
rules, the session runner (in-process or in a process of its own, for the console) and replay."""
