"""Parameter sweeps of controllers in simulation and batch gait analysis, on Dask (the ``scale``
extra: ``pip install 'rehabbot[scale]'``)."""
