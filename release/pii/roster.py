"""The officer roster: an officer's name is kept only where the text names an officer.

The City publishes officer names, so with ``officer_policy: keep`` the narrative keeps
them. But a surname alone may be a subject's too: an outside evaluation found "Dante
Jarvis" redacted to "[PERSON 1] Jarvis" because an officer was called Jarvis. So a roster
name is kept only in a roster form:

- the officer's full name ("Kevin Jarvis"); with an initial ("K. Jarvis", "Jarvis K.") or
  in the records' LAST, FIRST form ("JARVIS, KEVIN", how a narrative names the people it
  stops) only after a rank or in a sign-off;
- a rank right before the surname ("Officer Jarvis", "Ofc. Jarvis", "P.O. Jarvis",
  "Det. Sgt. Jarvis", "Tpr Jarvis", or the author: "Report by Jarvis"), and the surnames listed after it ("Officers Doolan,
  Finn and Jarvis", "officers Doolan/Finn");
- a unit call sign before or after it ("D101A (Doolan/Finn)", "BK02A BENT/MCCABE",
  "D415A Fullam R.", "Fullam/Melay D101A");
- two roster surnames joined by a slash ("Doolan/Finn"), or a slash pair on a line of its own;
  a kept name's slash partner is kept with it ("LEVICHEV/LAI -H202F-": a partner the roster
  does not list);
- a badge or ID number after it ("Jarvis #1234", "Jarvis (ID 10352)").

Anything else is left to the name detectors, so a bare surname that could be a subject's
is never protected; and a roster name written right after a first name that is not the
officer's ("Dante Jarvis", "David D. Smith") or before ", First" ("WILSON, GREGORY") is
read as somebody else's, even after a rank. Matches must have the phrase's number of words
(the skeleton ignores spaces: "Morris on" is not the surname Morrison). With ``officer_policy: redact`` every
roster match is redacted as OFFICER.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from release.pii.skeleton import PhraseMatcher
from release.pii.spans import Candidate, TextViews
from release.pii.terms import split_name

_RANK = re.compile(  # a full word ends there ("with Officers. Adams stated": a sentence ended); an abbreviation may take a dot
    r"(?:^|(?<=[^\w.]))(?:(?:officers?|detectives?|sergeants?|lieutenants?|captains?|troopers?|superintendent|deputy"
    r"|commissioner|corporal|inspector|agents?|chief|special|(?:report(?:ed)?|written|submitted|prepared|authored)[ \t]+by)"
    r"|(?:ofcs?|ofc's|p\.?[ ]?o|pos?|dets?|sgts?|lts?|capts?|tprs?|supt|dep|cpl|insp|spl)\.?)[ \t]*$",
    re.IGNORECASE,
)
_SIGN = r"[A-Z]{1,2}-?\d{1,4}[A-Z]{0,2}"  # a unit call sign: D101A, BK02A, H202F, A-103
_CALL_SIGN = re.compile(rf"(?:^|(?<=[^\w])){_SIGN}[ \t]*[(:\-]?[ \t]*(?:[A-Z]\.[ \t]?)?$", re.IGNORECASE)
_PARTNERS_THEN_SIGN = re.compile(rf"(?:[ \t]*/[ \t]*[A-Z][\w'’.\-]*)*[ \t]*[(\-]?[ \t]*{_SIGN}\b", re.IGNORECASE)
_SIGN_OFF_LINE = re.compile(r"[ \t]*[A-Z][\w'’.\-]*(?:[ \t]*/[ \t]*[A-Z][\w'’.\-]*)+[ \t]*", re.IGNORECASE)
_PARTNER_AFTER = re.compile(r"[ \t]*/[ \t]*([A-Z][A-Za-z'’\-]+)\b")
_PARTNER_BEFORE = re.compile(r"\b([A-Z][A-Za-z'’\-]+)[ \t]*/[ \t]*$")
_LIST_GAP = re.compile(r"[ \t]*(?:,[ \t]*(?:and[ \t]+|&[ \t]*)?|/|&|[ \t]and[ \t])[ \t]*", re.IGNORECASE)
_SLASH = re.compile(r"[ \t]*/[ \t]*")
_BADGE = re.compile(r"[ \t]*[,(]?[ \t]*(?:#|(?:id|badge|emp|employee)\b\.?[ \t]*#?)[ \t]*\d{3,6}\b", re.IGNORECASE)
_LOOK_BACK = 40
_WORDS = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
_WORD_BEFORE = re.compile(r"\b([^\W\d_]+)[ \t]+$")
_FIRST_AFTER = re.compile(r"[ \t]*,[ \t]*([^\W\d_]+)")


class Roster:
    """Officer names: kept in roster forms (trimmed from name candidates) or redacted as OFFICER."""

    def __init__(self, officers: Iterable[str], policy: str, given_names: frozenset[str] = frozenset()) -> None:
        self.policy = policy
        self.given_names = given_names  # first names in general: "David D. Smith" is not Officer D. Smith
        self.first_names: dict[str, str] = {}
        phrases: list[tuple[str, str]] = []
        for index, officer in enumerate(officers):
            given, last = split_name(officer)
            identity = f"officer:{index}"
            self.first_names[identity] = given[0].lower().strip(",.") if given else ""
            if last:
                phrases.append((last, identity))
                for first in given[:1]:
                    phrases += [(f"{first} {last}", identity), (f"{last} {first}", identity),
                                (f"{first[0]} {last}", identity), (f"{last} {first[0]}", identity)]
        # The payload keeps the phrase's word count: the skeleton ignores spaces, so "Morris on"
        # would otherwise match the surname Morrison.
        self.matcher: PhraseMatcher[tuple[str, int]] = PhraseMatcher(
            ((phrase, (identity, len(_WORDS.findall(phrase)))) for phrase, identity in phrases), min_length=2)
        # every roster surname is somebody's name: a bare one before a verb is redacted (neighbours.py)
        self.surnames = frozenset(phrase.lower() for phrase, _ in phrases if " " not in phrase)

    def _matches(self, views: TextViews) -> list[tuple[int, int, str]]:
        """Roster phrases in the text, written with as many words as the phrase has."""
        text = views.base.text
        found = []
        for start, end, payloads in self.matcher.find(views.skeleton):
            words = len(_WORDS.findall(text[start:end]))
            identity = next((identity for identity, count in payloads if count == words), None)
            if identity is not None:
                found.append((start, end, identity))
        return found

    def _someone_else(self, text: str, start: int, end: int, identity: str) -> bool:
        """The roster name sits in another person's name: after a first name that is not the
        officer's ("David D. Smith", "Dante Jarvis"), or before ", First" ("WILSON, GREGORY")."""
        first = self.first_names.get(identity, "")
        before = _WORD_BEFORE.search(text, max(0, start - _LOOK_BACK), start)
        after = _FIRST_AFTER.match(text, end)
        return any(word is not None and word.group(1).lower() in self.given_names and word.group(1).lower() != first
                   for word in (before, after))

    def mask(self, views: TextViews) -> bytearray:
        """1 over every roster name written in a roster form (policy ``keep``), else 0."""
        mask = bytearray(len(views.base.text))
        if self.policy != "keep":
            return mask
        found = {(start, end): identity for start, end, identity in self._matches(views)}
        matches = sorted(found)
        text = views.base.text
        other = [self._someone_else(text, start, end, found[start, end]) for start, end in matches]
        named = [not elsewhere and self._named_as_officer(text, start, end)
                 for (start, end), elsewhere in zip(matches, other, strict=True)]
        kept = [not elsewhere and (self._full_name(text, start, end) or officer)
                for (start, end), elsewhere, officer in zip(matches, other, named, strict=True)]
        for i in range(1, len(matches)):  # lists and pairs: "Officers Doolan and Finn", "Doolan/Finn"
            gap = text[matches[i - 1][1] : matches[i][0]]
            if named[i - 1] and _LIST_GAP.fullmatch(gap) or _SLASH.fullmatch(gap):
                named[i - 1] = named[i] = kept[i - 1] = kept[i] = True  # a rank reaches down a list, a full name does not
        for (start, end), keep in zip(matches, kept, strict=True):
            if keep:
                mask[start:end] = b"\x01" * (end - start)
                for partner in self._partners(text, start, end):  # "LEVICHEV/LAI": the partner signs too
                    mask[partner[0] : partner[1]] = b"\x01" * (partner[1] - partner[0])
        return mask

    @staticmethod
    def _partners(text: str, start: int, end: int) -> list[tuple[int, int]]:
        found = []
        after = _PARTNER_AFTER.match(text, end)
        if after:
            found.append(after.span(1))
        before = _PARTNER_BEFORE.search(text, max(0, start - _LOOK_BACK), start)
        if before:
            found.append(before.span(1))
        return found

    @staticmethod
    def _full_name(text: str, start: int, end: int) -> bool:
        """First and last name written out; an initial form ("J. Wood") or the records' LAST,
        FIRST form (how narratives name the people stopped) counts only where the text names an
        officer (after a rank, in a sign-off)."""
        words = _WORDS.findall(text[start:end])
        return len(words) >= 2 and all(len(word) > 1 for word in words) and "," not in text[start:end]

    @staticmethod
    def _named_as_officer(text: str, start: int, end: int) -> bool:
        line_start = text.rfind("\n", max(0, start - _LOOK_BACK), start) + 1
        before = text[max(line_start, start - _LOOK_BACK) : start]
        if _RANK.search(before) or _CALL_SIGN.search(before) or _BADGE.match(text, end):
            return True
        if _PARTNERS_THEN_SIGN.match(text, end):
            return True  # "Fullam/Melay D101A", "LEVICHEV/LAI -H202F-"
        line_end = text.find("\n", end)
        line = text[text.rfind("\n", 0, start) + 1 : len(text) if line_end < 0 else line_end]
        return bool(_SIGN_OFF_LINE.fullmatch(line))  # a line of its own: "Doolan/Finn"

    def candidates(self, views: TextViews) -> list[Candidate]:
        if self.policy != "redact":
            return []
        return [Candidate(start, end, "OFFICER", "roster", 0.9, "officer_roster", identity)
                for start, end, identity in self._matches(views)]
