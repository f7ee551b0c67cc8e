"""The controllers a protocol can name: a name → (module, class) table plus entry points.

A :class:`~rehabbot.plugins.Registry` (the python-can way). Adding a controller is one module
with a :class:`~rehabbot.controllers.base.Controller` subclass (its ``param_specs``, its
``build`` class method and, if it has a guidance level, its ``guidance_param``) and one line:
in :data:`BUILTIN_CONTROLLERS`, or, from another distribution, an entry point in the group
``rehabbot.controllers``::

    [project.entry-points."rehabbot.controllers"]
    spring = "my_package.spring:SpringController"

The protocol schema, the sweep spec and the session read the names and the parameter specs from
here; modules are imported only when a protocol names their controller.

>>> CONTROLLERS.names()
['assist_as_needed', 'impedance', 'path_control', 'transparent']
>>> CONTROLLERS.load("impedance").guidance_param
'guidance_pct'
"""

from __future__ import annotations

from rehabbot.controllers.base import Controller
from rehabbot.plugins import Registry

#: Built-in controllers: name → (module, class).
BUILTIN_CONTROLLERS: dict[str, tuple[str, str]] = {
    "impedance": ("rehabbot.controllers.impedance", "ImpedanceController"),
    "assist_as_needed": ("rehabbot.controllers.assist_as_needed", "AssistAsNeededController"),
    "path_control": ("rehabbot.controllers.path_control", "PathController"),
    "transparent": ("rehabbot.controllers.transparent", "TransparentController"),
}
#: Every controller a protocol can name: the built-ins and the ``rehabbot.controllers`` entry
#: points.
CONTROLLERS = Registry[Controller]("controller", "rehabbot.controllers", BUILTIN_CONTROLLERS,
                                   Controller)
