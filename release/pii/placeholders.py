"""Merging detections and writing readable, consistently numbered placeholders.

Overlapping and adjacent detections are merged before anything is replaced (Presidio
issues #1573 and #1090 show what happens otherwise: half-names and doubled tags). Each
merged span gets a typed placeholder, ``[PERSON 1]``, ``[ADDRESS 2]``, numbered per
label in order of first appearance; one value (a record term's identity, or the same
normalized text, or a surname already seen in a full name) keeps one number across the
text. A placeholder never glues to its neighbour: a space is added where the original
had none. Placeholders already in the text are never re-redacted, and new numbers
continue after them, so redacting twice changes nothing.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from release.pii.spans import PLACEHOLDER, WORD, Candidate, TextViews

# When spans of different labels overlap, the more specific one names the result.
_LABEL_PRIORITY = {
    "SSN": 9, "CARD": 8, "EMAIL": 8, "DOB": 8, "PHONE": 7, "PLATE": 7, "VIN": 7, "CASE": 7,
    "ID": 6, "HANDLE": 6, "URL": 6, "ADDRESS": 6, "PERSON": 5, "OFFICER": 5, "AGE": 4, "NAME": 3,
}
_DETECTOR_PRIORITY = {"record_term": 3, "roster": 2}
# characters after which (before which) the engine sets a placeholder apart by a space (``place``)
SPACED_AFTER, SPACED_BEFORE = "]_", "[_"
ENGINE_SPACING = (SPACED_AFTER, SPACED_BEFORE)
LEAK_LABEL = "REDACTED"  # the release-wide leak check's label for a value of no known kind (release.stages.leakcheck)
_NAME_LABELS = {"PERSON", "NAME", "OFFICER"}
_JOINERS = re.compile(r"\s*-?\s*")
_PIECES = re.compile(r"[^\W_]+")
_INITIAL_GAP = re.compile(r"\.\s*")  # "J. Smith": an initial joins the name after it


@dataclass(frozen=True)
class Detection:
    """A span in the original text's offsets: a merged detection (for the second scan), or one a later check
    forces on the engine."""

    start: int
    end: int
    entity_type: str
    detector: str
    score: float
    rule_id: str


@dataclass(frozen=True)
class Replacement:
    """One placeholder written: the span it replaced and where it stands in the output; ``normalized_value``
    is for the caller's HMAC token only."""

    start: int
    end: int
    out_start: int
    out_end: int
    entity_type: str
    detector: str
    score: float
    rule_id: str
    placeholder: str
    normalized_value: str  # only for the caller's HMAC token; never logged


@dataclass(frozen=True)
class Redacted:
    """A redacted text and its replacements, in the text's order."""

    text: str
    replacements: tuple[Replacement, ...]


@dataclass
class _Cluster:
    start: int
    end: int
    members: list[Candidate]
    label: str = ""
    identity: str = ""
    lead: Candidate | None = None


def forced_candidates(views: TextViews, forced: Sequence[Detection]) -> list[Candidate]:
    """Detections in original offsets -> candidates in the folded text, minus our placeholders."""
    out: list[Candidate] = []
    text = views.base.text
    for found in forced:
        start, end = views.base.from_original(max(found.start, 0), min(found.end, len(views.base.original)))
        run_start = start
        for position in range(start, end + 1):
            if position < end and not views.placeholders[position]:
                continue
            piece = text[run_start:position]
            if any(ch.isalnum() for ch in piece):  # spaces left at a cut are not the value
                left = run_start + len(piece) - len(piece.lstrip())
                out.append(Candidate(left, run_start + len(piece.rstrip()), found.entity_type, found.detector,
                                     found.score, found.rule_id))
            run_start = position + 1
    return out


def _rank(candidate: Candidate) -> tuple[int, int, float]:
    return (
        _LABEL_PRIORITY.get(candidate.entity_type, 0),
        _DETECTOR_PRIORITY.get(candidate.detector, 0),
        candidate.score,
    )


def _joinable(cluster: _Cluster, candidate: Candidate, text: str) -> bool:
    if candidate.start < cluster.end:
        return True
    gap = text[cluster.end : candidate.start]
    initial = cluster.end - cluster.start == 1 or (cluster.end >= 2 and not text[cluster.end - 2].isalnum())
    if not _JOINERS.fullmatch(gap) and not (initial and _INITIAL_GAP.fullmatch(gap)):
        return False
    labels = {m.entity_type for m in cluster.members}
    if candidate.entity_type not in labels and not (
        candidate.entity_type in _NAME_LABELS and labels & _NAME_LABELS
    ):
        return False
    identities = {m.identity for m in cluster.members if m.identity}
    return not identities or not candidate.identity or candidate.identity in identities


def _without_possessive(candidate: Candidate, text: str) -> Candidate:
    """"Quarrel's" -> "Quarrel": the possessive is not the name ("[PERSON 1]'s" reads on)."""
    if candidate.entity_type in _NAME_LABELS and candidate.end - candidate.start > 3 \
            and text[candidate.end - 2 : candidate.end] in ("'s", "’s", "'S", "’S"):
        return replace(candidate, end=candidate.end - 2)
    return candidate


def merge(candidates: list[Candidate], views: TextViews) -> list[_Cluster]:
    """Union overlapping spans, and same-label spans separated only by spaces/hyphens."""
    text = views.base.text
    kept = sorted(
        (_without_possessive(c, text) for c in candidates
         if c.end > c.start and not views.touches_placeholder(c.start, c.end)),
        key=lambda c: (c.start, -c.end),
    )
    clusters: list[_Cluster] = []
    for candidate in kept:
        if clusters and _joinable(clusters[-1], candidate, text):
            last = clusters[-1]
            last.end = max(last.end, candidate.end)
            last.members.append(candidate)
        else:
            clusters.append(_Cluster(candidate.start, candidate.end, [candidate]))
    for cluster in clusters:
        cluster.lead = max(cluster.members, key=_rank)
        cluster.label = cluster.lead.entity_type
        identities = [m.identity for m in cluster.members if m.identity]
        cluster.identity = identities[0] if identities else ""
    _assign_identities(clusters, text)
    return clusters


def _tokens(text: str, cluster: _Cluster) -> list[str]:
    return [w.lower() for w in WORD.findall(text[cluster.start : cluster.end])]


def _assign_identities(clusters: list[_Cluster], text: str) -> None:
    """Give every cluster a value identity; a lone surname joins its full name."""
    token_owner: dict[str, str] = {}
    identity_label: dict[str, str] = {}
    for cluster in clusters:
        if not cluster.identity:
            value = " ".join(_PIECES.findall(text[cluster.start : cluster.end].lower()))
            cluster.identity = f"value:{cluster.label}:{value}"
        if cluster.label in _NAME_LABELS:
            tokens = _tokens(text, cluster)
            if len(tokens) > 1 or not cluster.identity.startswith("value:"):
                for token in tokens:
                    token_owner.setdefault(token, cluster.identity)
        if cluster.label == "PERSON" or cluster.identity not in identity_label:
            identity_label[cluster.identity] = cluster.label
    for cluster in clusters:
        if cluster.label not in _NAME_LABELS or not cluster.identity.startswith("value:"):
            continue
        tokens = _tokens(text, cluster)
        if len(tokens) == 1 and tokens[0] in token_owner:
            cluster.identity = token_owner[tokens[0]]
        if cluster.label == "NAME" and identity_label.get(cluster.identity) == "PERSON":
            cluster.label = "PERSON"


def _existing_numbers(text: str) -> dict[str, int]:
    highest: dict[str, int] = defaultdict(int)
    for match in PLACEHOLDER.finditer(text):
        highest[match.group(1)] = max(highest[match.group(1)], int(match.group(2)))
    return highest


def _normalized_value(views: TextViews, cluster: _Cluster) -> str:
    return " ".join(_PIECES.findall(views.base.text[cluster.start : cluster.end].lower()))


def place(original: str, spans: Sequence[tuple[int, int, str | None]],
          spacing: tuple[str, str] = ENGINE_SPACING) -> tuple[str, list[tuple[int, int]]]:
    """``original`` with each span (start, end, placeholder; in order of their starts, none
    overlapping) replaced by its placeholder, or copied as is where the placeholder is None (a
    reviewer kept the text); and each span's place in the output.

    The one rendering of redacted text: the engine's (``render``), a reviewer's re-rendering
    (``release.stages.redact.apply_decisions``) and the replay of a logged redaction (``release
    audit --raw``, ``release.stages.redact.render_logged``) all call it, so what the audit
    rebuilds from the log cannot drift from what the build wrote. A placeholder never glues: a
    space goes before it after a letter or digit, after a character of ``spacing[0]``, or right
    after another span with nothing between them (unless a space already follows that span); and
    after it before a letter or digit or a character of ``spacing[1]``."""
    before, after = spacing
    out: list[str] = []
    placed: list[tuple[int, int]] = []
    length = position = 0
    for start, end, placeholder in spans:
        chunk = original[position:start]
        out.append(chunk)
        length += len(chunk)
        if placeholder is None:
            placed.append((length, length + end - start))
            out.append(original[start:end])
            length += end - start
            position = end
            continue
        previous = original[start - 1] if start > 0 else ""
        if (previous and (previous.isalnum() or previous in before)) or (
            not chunk and placed and placed[-1][1] == length
        ):
            out.append(" ")
            length += 1
        out.append(placeholder)
        placed.append((length, length + len(placeholder)))
        length += len(placeholder)
        following = original[end] if end < len(original) else ""
        if following and (following.isalnum() or following in after):
            out.append(" ")
            length += 1
        position = end
    out.append(original[position:])
    return "".join(out), placed


def render(views: TextViews, clusters: list[_Cluster]) -> Redacted:
    """Replace every cluster in the original text by its numbered placeholder."""
    original = views.base.original
    numbers: dict[tuple[str, str], int] = {}
    counters = _existing_numbers(original)
    position = 0
    placing: list[tuple[int, int, _Cluster, str]] = []
    for cluster in clusters:
        start, end = views.base.to_original(cluster.start, cluster.end)
        if start < position:  # cannot happen after merge; keep the output well-formed anyway
            start = position
        if end <= start:
            continue
        key = (cluster.label, cluster.identity)
        if key not in numbers:
            counters[cluster.label] += 1
            numbers[key] = counters[cluster.label]
        placing.append((start, end, cluster, f"[{cluster.label} {numbers[key]}]"))
        position = end
    text, placed = place(original, [(start, end, placeholder) for start, end, _, placeholder in placing])
    replacements: list[Replacement] = []
    for (start, end, cluster, placeholder), (out_start, out_end) in zip(placing, placed, strict=True):
        lead = cluster.lead
        assert lead is not None
        replacements.append(
            Replacement(
                start=start, end=end, out_start=out_start, out_end=out_end,
                entity_type=cluster.label, detector=lead.detector, score=lead.score,
                rule_id=lead.rule_id, placeholder=placeholder,
                normalized_value=_normalized_value(views, cluster),
            )
        )
    return Redacted(text=text, replacements=tuple(replacements))


def detections(views: TextViews, clusters: list[_Cluster]) -> list[Detection]:
    """Merged spans as detections in original offsets (for the second scan)."""
    found = []
    for cluster in clusters:
        start, end = views.base.to_original(cluster.start, cluster.end)
        lead = cluster.lead
        assert lead is not None
        found.append(Detection(start, end, cluster.label, lead.detector, lead.score, lead.rule_id))
    return found


def engine_labels(pii_rules: Path) -> frozenset[str]:
    """Every entity type the build can write in a placeholder: the engine's own labels, the leak
    check's, and those ``recognizers.yaml`` in ``pii_rules`` declares. ``release audit --raw`` holds the
    redaction log's entity types to it, so that a placeholder's word cannot carry a value."""
    from release.pii.recognizers import declared_entity_types

    return frozenset(_LABEL_PRIORITY) | {LEAK_LABEL} | declared_entity_types(pii_rules)
