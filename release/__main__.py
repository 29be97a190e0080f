"""``python -m release``: the same command line as the ``release`` script (``cli.main``).

The synthetic-data generator keeps its own entry point, ``python -m release.synth``.
"""

from release.cli import main

if __name__ == "__main__":
    main()
