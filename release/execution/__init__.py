"""Where a run's heavy work runs: the PII engine with the workers the run asked for (``workers``: in
this process or forked workers, ``--jobs``), or on Ray actors (``ray_workers``, the only module importing
Ray), which also run the stages' leak checks and the tables' group-by. It sits above ``pii`` and
``stages``, starting the one and running the other's work on its workers; neither ever imports it, so
their own code never depends on where it runs. This package import stays cheap: no Ray, no engine."""
