"""Tests of rehabbot.sim: a package, so that its conftest.py and test modules do not clash
with those of the same name in other folders."""
