"""The audit's tests judge the bundles ``bundlekit`` builds with a fixed HMAC key, which ``_release_key``
sets for every test here, and the attack rounds' ``world``."""

from bundlekit import _release_key, base, built, make_bundle, release_key, signing_key, world  # noqa: F401
