"""Synthetic raw exports on demand (the ``sample`` command).

Owns ``write_sample``: it picks the dataset's generator in ``release.synth`` and writes a
raw export in the contract's shape. Every value is fictitious; no real data is read.
"""

from __future__ import annotations

from pathlib import Path

from release.errors import ConfigError, InputError


def write_sample(dataset: str, year: int, out_dir: Path, *, seed: int | None = None,
                 reports: int | None = None) -> dict[str, object]:
    """A synthetic raw export in the contract's shape (every value fictitious)."""
    from release.synth.__main__ import INCIDENT_GENERATORS
    from release.synth import fioe as synth_fioe

    seed = year if seed is None else seed
    try:
        if dataset == "fioe":
            data = synth_fioe.generate_fioe(year, seed=seed, n_reports=reports or 5600)
            written = synth_fioe.write_fioe(data, out_dir)
        elif dataset in INCIDENT_GENERATORS:
            generate, write, option, keyword, _ = INCIDENT_GENERATORS[dataset]
            kwargs: dict[str, int] = {"seed": seed}
            if option and reports:
                kwargs[keyword] = reports
            written = write(generate(year, **kwargs), out_dir)
        else:
            raise ConfigError(f"no synthetic generator for dataset '{dataset}'", rule="sample")
    except OSError as exc:  # --out names a file, or a folder that cannot be made: the user's to fix, not a bug
        raise InputError(f"cannot write the sample there ({exc.strerror or type(exc).__name__})", file=str(out_dir),
                         rule="sample") from None
    return {"folder": str(out_dir), "files": [p.name for p in written]}
