"""The domain, below every other package: the human body and the orthosis on it.

Joint names and sign conventions, anthropometry, orthosis segments, leg mechanics (gravity and
inertia of the planar leg), the gait cycle and normative gait curves, and range of motion. It
imports nothing of rehabbot but :mod:`rehabbot.errors`; docs/body.md describes it.
"""
