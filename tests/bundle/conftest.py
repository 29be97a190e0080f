"""``bundlekit``'s tiny bundles for the readers' tests. Those built with its fixed HMAC key ask for
``release_key`` themselves: the builds through the CLI here use the session's key file."""

from bundlekit import built, release_key  # noqa: F401
