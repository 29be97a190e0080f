"""Narrative PII detection and redaction.

``normalize`` (Unicode folding with offset maps, case restoration), ``skeleton``
(separator-blind Aho-Corasick phrase matching), ``lexicon`` (English, names, public
words, address words), ``recognizers`` (YAML rules), ``terms`` (record-linked values),
``detect`` (name filtering, uncommon words, roster, later mentions), ``namewords`` and
``names`` (full-name completion, coordination), ``address_parts`` and ``addresses``
(address-block completion), ``assemble`` (a text's candidates, record-independent part
once), ``placeholders`` (merging and numbered placeholders), ``residual`` (the scan of
redacted text the build's verify rounds and the audit share) and ``engine`` (the only
module importing Presidio or spaCy). Import ``release.pii.engine`` for the API; this
package import stays cheap.
"""
