"""release: turn raw police exports into public files that leak no one."""

__version__ = "0.1.0"
