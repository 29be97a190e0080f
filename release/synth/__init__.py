"""Synthetic raw exports for development, tests and benchmarks.

Real raw exports hold names, dates of birth and unredacted narratives and may never enter
this repository. This package generates look-alikes from a seed: same columns, value
spellings, defects and narrative style, with every person, address and sentence invented,
and with the exact location of every planted PII value as ground truth.
"""
