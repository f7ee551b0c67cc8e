"""Therapy protocols: the schema, the bundled protocol files, the phased controller, progression
rules and the protocol-level assessment phases. Sessions that run them live in
:mod:`rehabbot.session`."""
