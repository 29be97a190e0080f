"""Synthetic raw exports on demand (the ``sample`` command).

Owns ``write_sample``: it picks the dataset's generator in ``release.synth`` and writes a
raw export in the contract's shape: for FIOE, the shape of the record system that held most
of the year (``release.datasets.generations``; ``generation`` chooses another). Every value is
fictitious; no real data is read.
"""

from __future__ import annotations

from pathlib import Path

from release.datasets import generations
from release.errors import ConfigError, InputError


def write_sample(dataset: str, year: int, out_dir: Path, *, seed: int | None = None,
                 reports: int | None = None, generation: str | None = None) -> dict[str, object]:
    """A synthetic raw export in the contract's shape (every value fictitious)."""
    from release.synth.__main__ import INCIDENT_GENERATORS, write_fioe_generation

    seed = year if seed is None else seed
    chosen = generations.named(dataset, generation) if generation is not None else \
        generations.main_generation(dataset, year)
    if generation is not None and chosen is None:
        raise ConfigError(f"{dataset} has one schema: --generation does not apply", rule="generation")
    try:
        if dataset == "fioe":
            assert chosen is not None
            written = write_fioe_generation(chosen.name, year, out_dir, seed=seed, n_reports=reports or 5600)
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
    result: dict[str, object] = {"folder": str(out_dir), "files": [p.name for p in written]}
    if chosen is not None:
        result["generation"] = chosen.name
    return result
