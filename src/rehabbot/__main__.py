"""``python -m rehabbot`` is the ``rehabbot`` command."""

from rehabbot.cli import main

main()
