"""The review packet's tests render the bundles ``bundlekit`` builds with a fixed HMAC key, which
``_release_key`` sets for every test here."""

from bundlekit import _release_key, built, make_bundle, release_key  # noqa: F401
