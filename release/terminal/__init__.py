"""The command line's terminal side: every command's help, plain-text renderings of results, progress bars.

Used by ``release.cli`` only; nothing here builds, reads or signs a bundle."""
