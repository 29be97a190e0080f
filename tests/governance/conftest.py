"""The bundle-level attack rounds' scene, shared with tests/audit, tests/review and tests/bundle
(``bundlekit``): tiny bundles built with a fixed HMAC key, which ``_release_key`` sets for every test here."""

from bundlekit import _release_key, base, built, make_bundle, release_key, rules, signing_key, world  # noqa: F401
