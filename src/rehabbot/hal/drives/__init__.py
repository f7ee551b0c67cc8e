"""Drive protocols, one module each (``mit``, ``cia402``), found through :mod:`.registry`."""
