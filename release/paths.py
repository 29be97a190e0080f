"""Where rule files, suites and the bundled samples are found when the user names none."""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
SOURCE_ROOT = PACKAGE_DIR.parent


def default_dir(name: str, cwd: Path | None = None) -> tuple[Path, str]:
    """Return (path, origin) for ``redaction_rules`` or ``expectations``.

    Order: ``./<name>`` in the working folder, then the copy shipped inside the installed
    package (``release/shipped/<name>`` in a wheel, the source tree in an editable install).
    The origin string goes into the manifest so an auditor knows which copy was used.
    """
    local = (cwd or Path.cwd()) / name
    if local.is_dir():
        return local.resolve(), "working-directory"
    shipped = PACKAGE_DIR / "shipped" / name
    if shipped.is_dir():
        return shipped, "installed-package"
    source = SOURCE_ROOT / name
    return source, "installed-package"


def sample_dir(dataset: str, year: int) -> Path:
    return PACKAGE_DIR / "samples" / dataset / str(year)
