"""Boston places for the synthetic exports: neighbourhood, zip code and public street names.

Street names are public geography (they name no one), grouped by the area they run
through so that ``street``, ``city`` and ``zip`` agree the way they do in a real export.
House numbers are always drawn at random by the generator. Landmarks are public places,
never businesses or homes.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Area:
    """One zip code: the ``city`` value the export writes for it and its streets."""

    city: str
    zip_code: str
    weight: float
    streets: tuple[str, ...]


def _streets(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split("|") if part.strip())


AREAS: tuple[Area, ...] = (
    Area("BOSTON", "02118", 17.0, _streets(
        "Washington St|Tremont St|Shawmut Ave|Harrison Ave|Albany St|Massachusetts Ave|"
        "Southampton St|W Newton St|Northampton St|Worcester St|Columbus Ave|Union Park St|"
        "E Berkeley St|Herald St|Waltham St|Camden St|Hammond St|Lenox St|Newcomb St")),
    Area("ROXBURY", "02119", 13.0, _streets(
        "Blue Hill Ave|Warren St|Dudley St|Washington St|Malcolm X Blvd|Seaver St|Humboldt Ave|"
        "Walnut Ave|Dale St|Circuit St|Townsend St|Mt Pleasant Ave|Hampden St|Dewitt Dr|"
        "Ruggles St|Melnea Cass Blvd|Greenville St|Homestead St|Moreland St|Cedar St|"
        "Highland St|Ambrose St|Magazine St|Eustis St|Zeigler St")),
    Area("DORCHESTER", "02125", 9.0, _streets(
        "Dorchester Ave|Columbia Rd|Dudley St|Hancock St|Boston St|Savin Hill Ave|Bowdoin St|"
        "Stoughton St|Pleasant St|Howard Ave|Hamlet St|Quincy St|Bird St|Pond St")),
    Area("DORCHESTER", "02124", 8.0, _streets(
        "Washington St|Talbot Ave|Dorchester Ave|Norfolk St|Morton St|Bowdoin St|Geneva Ave|"
        "Park St|Gibson St|Ashmont St|Fuller St|Harvard St|Wales St|Millet St|Kerwin St|"
        "Mascot St|Evans St|Lyons St")),
    Area("ROXBURY", "02121", 4.5, _streets(
        "Blue Hill Ave|Geneva Ave|Columbia Rd|Washington St|Intervale St|Harold St|Seaver St|"
        "Normandy St|Wayland St|Quincy St|Magnolia St|Hartford St|Ruthven St|Glenway St")),
    Area("DORCHESTER", "02121", 3.5, _streets(
        "Columbia Rd|Geneva Ave|Bowdoin St|Hamilton St|Ceylon St|Fayston St|Homes Ave|"
        "Quincy St|Dakota St|Levant St")),
    Area("BOSTON", "02116", 5.0, _streets(
        "Boylston St|Newbury St|Dartmouth St|Clarendon St|Berkeley St|Stuart St|Arlington St|"
        "Columbus Ave|St James Ave|Tremont St|Warren Ave")),
    Area("BOSTON", "02111", 4.5, _streets(
        "Washington St|Essex St|Beach St|Hudson St|Kneeland St|Harrison Ave|Tyler St|"
        "Chauncy St|Lincoln St|Stuart St|Oak St|Knapp St")),
    Area("BOSTON", "02108", 3.5, _streets(
        "Tremont St|Park St|Winter St|Beacon St|Bromfield St|School St|Temple Pl|Hamilton Pl|"
        "Washington St|Province St")),
    Area("SOUTH BOSTON", "02127", 3.5, _streets(
        "W Broadway|E Broadway|Dorchester St|Old Colony Ave|L St|E 4th St|W 6th St|"
        "Mercer St|Patterson Way|Logan Way|Gates St|Silver St|D St|West 9th St")),
    Area("MATTAPAN", "02126", 3.2, _streets(
        "Blue Hill Ave|Morton St|River St|Cummins Hwy|Norfolk St|Woodrow Ave|Babson St|"
        "Fessenden St|Wellington Hill St|Evelyn St|Lucerne St|Itasca St")),
    Area("DORCHESTER", "02122", 3.0, _streets(
        "Dorchester Ave|Adams St|Gibson St|Neponset Ave|Freeport St|Linden St|King St|"
        "Hallet St|Train St|Minot St")),
    Area("JAMAICA PLAIN", "02130", 3.0, _streets(
        "Centre St|South St|Hyde Park Ave|Washington St|Amory St|Lamartine St|Boylston St|"
        "Green St|Paul Gore St|Forest Hills St|Heath St|Day St|Chestnut Ave")),
    Area("ROXBURY", "02120", 3.0, _streets(
        "Tremont St|Parker St|Annunciation Rd|Heath St|Smith St|Terrace St|Calumet St|"
        "Alleghany St|St Alphonsus St|Huntington Ave|Columbus Ave|Ward St")),
    Area("BOSTON", "02115", 2.6, _streets(
        "Huntington Ave|Massachusetts Ave|Westland Ave|Hemenway St|Forsyth St|Longwood Ave|"
        "St Stephen St|Symphony Rd|Boylston St|Gainsborough St")),
    Area("BRIGHTON", "02135", 2.3, _streets(
        "Washington St|Commonwealth Ave|Cambridge St|Market St|Chestnut Hill Ave|Faneuil St|"
        "Western Ave|N Beacon St|Allston St|Warren St|Lake St")),
    Area("EAST BOSTON", "02128", 1.8, _streets(
        "Meridian St|Bennington St|Border St|Saratoga St|Maverick Sq|Sumner St|Chelsea St|"
        "Marion St|Princeton St|Orleans St|Paris St|Brooks St")),
    Area("BOSTON", "02215", 1.6, _streets(
        "Brookline Ave|Lansdowne St|Boylston St|Commonwealth Ave|Beacon St|Kilmarnock St|"
        "Peterborough St|Jersey St")),
    Area("ROSLINDALE", "02131", 1.3, _streets(
        "Washington St|Belgrade Ave|Cummins Hwy|Poplar St|South St|Walk Hill St|"
        "Hyde Park Ave|Birch St|Florence St")),
    Area("BRIGHTON", "02134", 1.2, _streets(
        "Brighton Ave|Harvard Ave|Cambridge St|Commonwealth Ave|N Harvard St|Linden St|"
        "Gordon St|Glenville Ave")),
    Area("BOSTON", "02114", 1.2, _streets(
        "Cambridge St|Causeway St|Staniford St|Blossom St|Merrimac St|Charles St|Bowdoin St|"
        "New Chardon St")),
    Area("HYDE PARK", "02136", 1.1, _streets(
        "Hyde Park Ave|River St|Cummins Hwy|Truman Pkwy|Wood Ave|Metropolitan Ave|West St|"
        "Fairmount Ave|Dana Ave")),
    Area("CHARLESTOWN", "02129", 1.0, _streets(
        "Bunker Hill St|Medford St|Main St|Rutherford Ave|Elm St|Chelsea St|Polk St|"
        "Decatur St|Monument Sq")),
    Area("WEST ROXBURY", "02132", 0.9, _streets(
        "Centre St|Spring St|Washington St|VFW Pkwy|Lagrange St|Corey St|Bellevue St")),
    Area("BOSTON", "02110", 0.8, _streets("State St|Congress St|Atlantic Ave|Milk St|Broad St|High St")),
    Area("BOSTON", "02109", 0.5, _streets("State St|Commercial St|Atlantic Ave|Clinton St|North St")),
    Area("BOSTON", "02199", 0.4, _streets("Huntington Ave|Boylston St|Ring Rd|Belvidere St")),
    Area("BOSTON", "02113", 0.4, _streets("Hanover St|Salem St|Prince St|Commercial St|Fleet St|Endicott St")),
    Area("BOSTON", "02210", 0.3, _streets("Seaport Blvd|Congress St|Summer St|A St|Northern Ave|D St")),
)

# Cities outside Boston that appear, rarely, in the city column or in home addresses.
OUTSIDE_TOWNS: tuple[tuple[str, str], ...] = (
    ("MALDEN", "02148"), ("CAMBRIDGE", "02139"), ("QUINCY", "02169"), ("MILTON", "02186"),
    ("DEDHAM", "02026"), ("BROCKTON", "02301"), ("RANDOLPH", "02368"), ("CHELSEA", "02150"),
    ("LYNN", "01902"), ("EVERETT", "02149"), ("REVERE", "02151"), ("SOMERVILLE", "02143"),
)

# Misspellings of the state the real exports carry now and then.
STATE_SPELLINGS: tuple[tuple[str, float], ...] = (
    ("MA", 0.9985), ("MASS", 0.0005), ("MASSACHUSETTS", 0.0007), ("MASSACHCUSETTS", 0.0003),
)

# Long forms used in the street column or text instead of the abbreviated suffix.
SUFFIX_LONG: dict[str, str] = {
    "St": "Street", "Ave": "Avenue", "Rd": "Road", "Blvd": "Boulevard", "Pl": "Place",
    "Hwy": "Highway", "Sq": "Square", "Dr": "Drive", "Pkwy": "Parkway", "Ct": "Court",
    "Way": "Way", "Ter": "Terrace",
}

# Public landmarks officers name in narratives (no businesses, no homes).
LANDMARKS: tuple[str, ...] = (
    "Ruggles Station", "Nubian Square", "Franklin Park", "the Boston Common",
    "Downtown Crossing", "Jackson Square Station", "Fields Corner Station",
    "Mattapan Square", "Egleston Square", "Grove Hall", "Uphams Corner",
    "Andrew Station", "Forest Hills Station", "Maverick Station", "Ashmont Station",
    "Peters Park", "Blackstone Square", "Mass Ave and Melnea Cass", "the Orchard Gardens courts",
    "Malcolm X Park", "Harambee Park", "Roberts Playground", "the Southwest Corridor",
)
