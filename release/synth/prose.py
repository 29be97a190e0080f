"""Sentences without PII of their own that give synthetic narratives their bulk and tone:
context, demeanour, what a person said, and outcomes. Slots: ``{q}`` a reference to the
person, ``{h}``/``{x}`` his/her pronouns, ``{s}`` a street, ``{l}`` a landmark.

Written for this project in the register of patrol narratives; none is a City sentence.
"""

from __future__ import annotations

CONTEXT: tuple[str, ...] = (
    "Officers were conducting a directed patrol because of a recent spike in car breaks.",
    "The area around {s} has generated numerous community complaints about loitering and drug activity.",
    "District officers have been asked to pay extra attention to {l} after several recent shootings.",
    "This location is a known gathering spot for youths from the {s} area.",
    "The stop took place during a period of heightened tension between two neighboring groups.",
    "Officers were in full uniform and operating a marked cruiser.",
    "Officers were assigned to a foot beat covering {l} and the surrounding blocks.",
    "A flyer shared at roll call earlier in the week showed a suspect of similar build and clothing.",
    "Residents of {s} have called repeatedly about people drinking and playing loud music late at night.",
    "Officers had received information from a confidential source about activity near {l}.",
    "Earlier in the shift a caller reported a male displaying a firearm near {s}.",
    "The block had been the scene of a stabbing two nights earlier.",
    "Dispatch broadcast a description of a party fleeing on foot toward {s}.",
    "Officers are familiar with the location from prior calls for service.",
)
DEMEANOR: tuple[str, ...] = (
    "{q} appeared nervous and kept looking over {x} shoulder.",
    "{q} was cooperative throughout the interaction.",
    "{q} repeatedly touched {x} waistband as officers approached.",
    "{q} became argumentative and refused to answer questions at first.",
    "{q} was calm and polite and answered all questions.",
    "{q} kept {x} hands in {x} pockets after being asked to take them out.",
    "{q} immediately turned away and started walking in the opposite direction.",
    "{q} bladed {x} body away from officers during the conversation.",
    "{q} appeared to be under the influence and was unsteady on {x} feet.",
)
STATEMENTS: tuple[str, ...] = (
    "{q} stated {h} was coming from a friend's house on {s} and was on {x} way home.",
    "{q} stated {h} was waiting for a ride near {l}.",
    "When asked, {q} said {h} did not know the other parties well.",
    "{q} told officers {h} had just gotten off work and was walking to the bus.",
    "{q} said {h} was visiting family in the area and did not live nearby.",
    "{q} stated the vehicle belonged to {x} girlfriend.",
    "{q} said {h} had been kicked out of {x} apartment and had nowhere to go.",
    "{q} denied having anything illegal on {x} person.",
    "{q} stated {h} had been at {l} most of the evening.",
)
OUTCOMES: tuple[str, ...] = (
    "After a brief conversation, the parties were advised of the complaint and sent on their way.",
    "Officers cleared the scene without further incident.",
    "No weapons or contraband were located.",
    "Parties were advised to disperse, and did so without incident.",
    "A supervisor was notified and responded to the scene.",
    "The information was forwarded to the district detectives for follow up.",
    "The investigation is ongoing.",
    "Body worn cameras recorded the entire interaction.",
    "Officers will keep checking the location on future tours.",
    "Information forwarded to the YVSF for intel purposes.",
)
CLOSINGS: tuple[str, ...] = (
    "All parties FIO'd and released.", "FIO'd and released.", "Verbal warning issued. FIO'd and released.",
    "BWC activated. FIOE'd and released.", "Subjects were advised and released.",
    "Mass Uniform Citation issued.", "Nothing further at this time.", "FIO & released.",
    "Released from scene.", "Intel FIO, no further action.", "",
)
