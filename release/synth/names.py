"""Fictitious person-name vocabulary for the synthetic exports.

Every list here was written by hand for the generator; none comes from a City file. Names
are combined at random, so a generated person is nobody. The lists deliberately hold the
hard cases a redactor meets in Boston narratives: surnames that are common English words
or Boston street names (Washington, Warren, Fitzgerald, King, Rose, Dudley), O'/Mc/Mac
names, hyphenated and two-part Hispanic surnames, Haitian, Cape Verdean, Somali and
Vietnamese names, first names that are words (Hope, Will, Major) and street nicknames.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NameGroup:
    """First names by sex and surnames of one naming tradition."""

    male: tuple[str, ...]
    female: tuple[str, ...]
    surnames: tuple[str, ...]
    middle: tuple[str, ...] = ()
    middle_female: tuple[str, ...] = ()


def _words(text: str) -> tuple[str, ...]:
    """Split a '|'-separated list (names may contain spaces, hyphens and apostrophes)."""
    return tuple(part.strip() for part in text.split("|") if part.strip())


GROUPS: dict[str, NameGroup] = {
    "african_american": NameGroup(
        male=_words(
            "Jamal|Tyrone|Marcus|Andre|Darnell|Terrell|DeShawn|Malik|Jerome|Kevin|Anthony|"
            "Michael|Christopher|Brandon|Jalen|Isaiah|Elijah|Tariq|Rashad|Dante|Corey|"
            "Derrick|Lamar|Trevon|Khalil|Quincy|Devonte|Jaylen|Xavier|Cedric|Reginald|"
            "Curtis|Will|Mark|King|Major|Justice|Chance|Hunter|Darius|Javon|Omari|Amir"
        ),
        female=_words(
            "Aaliyah|Tanisha|Keisha|Shanice|Imani|Destiny|Precious|Jasmine|Brianna|"
            "Monique|Latoya|Ebony|Tiara|Nia|Hope|Joy|Faith|Grace|Summer|Essence|Kiara|"
            "Danielle|Ashley|Crystal|Diamond|Janae|Tamika|Asia"
        ),
        surnames=_words(
            "Washington|Warren|Brown|Green|King|Jackson|Johnson|Williams|Robinson|Harris|"
            "Thomas|Jefferson|Freeman|Banks|Hill|Young|Price|Bell|Love|Grant|Little|"
            "Strong|Booker|Gaines|Coleman|Mitchell|Simmons|Tate|Dudley|Hancock|Adams|"
            "Morton|Parker|Rose|Franklin|Lawrence|Wiggins|Pettaway|Boone|Battle|Council|"
            "Moody|Holloway|Stokes|Dixon|Ware|Grimes|Alston|Mack|Bland"
        ),
        middle=_words("Lee|Ray|James|Lamont|Antoine|Jamar|D."),
        middle_female=_words("Marie|Nicole|Denise|Lynn|S."),
    ),
    "irish_anglo": NameGroup(
        male=_words(
            "Sean|Patrick|Brendan|Kevin|Connor|Liam|Ryan|Matthew|Daniel|Timothy|Brian|"
            "Kyle|Tyler|Cody|Shane|Dylan|Colin|Declan|Jack|Thomas|Keith|Dennis|Gerald|"
            "Francis|Ronan|Eamon|Neil|Craig"
        ),
        female=_words(
            "Caitlin|Kerry|Erin|Meghan|Shannon|Colleen|Bridget|Kelly|Amanda|Nicole|"
            "Stephanie|Jessica|Heather|Brittany|Kayla|Rose|Maureen|Siobhan|Deirdre|Molly"
        ),
        surnames=_words(
            "Fitzgerald|O'Malley|O'Neil|O'Connell|McCarthy|McLaughlin|MacDonald|MacNeil|"
            "McGrath|Doherty|Donovan|Flaherty|Gallagher|Kavanagh|Keane|Lynch|Murphy|"
            "Quinlan|Reardon|Shea|Walsh|Burke|Hurley|Callahan|Driscoll|Fallon|Whelan|"
            "Coughlin|Green|Brown|White|Black|Frost|Lane|Ford|Church|Hill|Warren|"
            "Fitzpatrick|Mahoney|Keough|McNulty|MacIsaac|O'Rourke|Tierney|Concannon|"
            "Nee|Foley|Dunphy|King|Carney|Moakley|Curley"
        ),
        middle=_words("John|Joseph|Michael|Patrick|P.|J."),
        middle_female=_words("Ann|Marie|Elizabeth|K."),
    ),
    "italian_polish": NameGroup(
        male=_words(
            "Anthony|Joseph|Vincent|Salvatore|Nicholas|Dominic|Paul|Stephen|Marco|"
            "Piotr|Tomasz|Adam|Richard|Louis|Frank|Carmine"
        ),
        female=_words("Gina|Maria|Angela|Theresa|Francesca|Lisa|Donna|Agnieszka|Katarzyna|Joanne"),
        surnames=_words(
            "DeLuca|Russo|Ferrante|Marchetti|Pellegrino|Santoro|Caruso|LoPresti|DiMarco|"
            "Esposito|Bianchi|Romano|Nowak|Wisniewski|Zielinski|Kaminski|Lewandowski|"
            "Jankowski|Grasso|Vitale|D'Amico|Capobianco"
        ),
        middle=_words("A.|Joseph|M."),
        middle_female=_words("Maria|L."),
    ),
    "hispanic": NameGroup(
        male=_words(
            "José|Jose|Luis|Carlos|Juan|Miguel|Angel|Jonathan|Christian|Jorge|Edwin|"
            "Wilfredo|Hector|Ramón|Ramon|Yadiel|Jeremías|Elvin|Alexis|Brayan|Javier|"
            "Jesús|Joel|Raúl|Pedro|Santos|Franklin|Wilmer|Kelvin|Juan Carlos|José Luis"
        ),
        female=_words(
            "María|Maria|Yesenia|Yamilet|Carmen|Keyla|Nayeli|Daniela|Gabriela|Rosa|"
            "Yaritza|Luz|Marisol|Esperanza|Dulce|Ana María|Lisbeth|Wanda|Milagros"
        ),
        surnames=_words(
            "Rivera|Ortiz|Rodríguez|Rodriguez|Santiago|Pérez|Perez|Peña|Muñoz|Vázquez|"
            "Colón|Cruz|Torres|Ramos|Figueroa|Báez|Nieves|Delgado|Castillo|Guzmán|"
            "Acevedo|Almonte|Encarnación|De La Cruz|De Jesus|Del Valle|Rivera Ortiz|"
            "Santiago-Colón|Peña Almonte|Vargas|Marrero|Quiñones|Batista|Ventura|Polanco"
        ),
        middle=_words("Antonio|Manuel|Enrique|A.|J."),
        middle_female=_words("Luisa|Isabel|Del Carmen|M."),
    ),
    "haitian": NameGroup(
        male=_words(
            "Jean|Jean-Claude|Fritz|Ricardo|Stanley|Widlin|Wilner|Jocelyn|Ronald|"
            "Emmanuel|Frantz|Kervens|Dieuseul|Wesner|Jameson|Peterson"
        ),
        female=_words(
            "Marie|Nadège|Guerline|Fabiola|Rose-Marie|Wislande|Mirlande|Islande|"
            "Stephanie|Mica|Dieula|Farah"
        ),
        surnames=_words(
            "Pierre-Louis|Jean-Baptiste|Joseph|Charles|Louis|Dorsainvil|Saint-Fleur|Desir|"
            "Fils-Aimé|Auguste|Etienne|Celestin|Noël|Dorvil|Toussaint|Théodore|Jean-Louis|"
            "Bien-Aimé|Exantus|Mondesir"
        ),
        middle=_words("Junior|Rony|Evens"),
        middle_female=_words("Marie|Nadia"),
    ),
    "cape_verdean": NameGroup(
        male=_words("Adilson|Edson|Ailton|Nelson|Helder|Manuel|Joaquim|Elton|Dário|Jair|Djon|Tony"),
        female=_words("Ana|Cátia|Elisângela|Jandira|Denise|Neusa|Maria|Edna|Ivone"),
        surnames=_words(
            "Monteiro|Fernandes|Gomes|Andrade|Tavares|Barbosa|Semedo|Fortes|Lopes|Pina|"
            "DaRosa|Da Veiga|Rodrigues|Mendes|Furtado|Spencer|Depina|Brito|Centeio"
        ),
        middle=_words("Carlos|Antonio|Jose"),
        middle_female=_words("Da Graça|Maria"),
    ),
    "somali": NameGroup(
        male=_words("Abdirahman|Mohamed|Abdullahi|Ahmed|Yusuf|Abdi|Omar|Ismail|Mahad|Liban|Sharmarke"),
        female=_words("Hodan|Fadumo|Ayaan|Sahra|Hibo|Ubah|Ifrah|Hawa|Nimo"),
        surnames=_words(
            "Farah|Warsame|Abdi|Hussein|Jama|Mohamud|Osman|Aden|Nur|Ali|Yusuf|Hirsi|"
            "Abdullahi|Elmi"
        ),
        middle=_words("Abdi|Ahmed|Omar"),
        middle_female=_words("Abdi|Ahmed"),
    ),
    "vietnamese": NameGroup(
        male=_words("Minh|Tuan|Hung|Khoa|Bao|Duc|Long|Quang|Thanh|Vinh|Danny|Kenny"),
        female=_words("Linh|Mai|Thuy|Ngoc|Hoa|Lan|Trang|Kim|Tina"),
        surnames=_words("Nguyen|Tran|Le|Pham|Hoang|Huynh|Phan|Vu|Dang|Bui|Do|Ngo|Duong|Ly"),
        middle=_words("Van"),
        middle_female=_words("Thi"),
    ),
    "chinese": NameGroup(
        male=_words("Wei|Jian|Ming|Kevin|Jason|Hao|Tony|Jun"),
        female=_words("Mei|Xiu|Lily|Amy|Yan|Jing"),
        surnames=_words("Chen|Wong|Li|Zhang|Liu|Chan|Lee|Lam|Ng|Huang|Mak"),
        middle=_words("Y.|K."),
        middle_female=_words("Y.|L."),
    ),
}

# Which traditions a person's recorded race or ethnicity draws names from (weights).
GROUPS_BY_RACE: dict[str, tuple[tuple[str, float], ...]] = {
    "Black": (
        ("african_american", 0.58),
        ("haitian", 0.15),
        ("cape_verdean", 0.11),
        ("somali", 0.06),
        ("hispanic", 0.10),
    ),
    "White": (("irish_anglo", 0.45), ("italian_polish", 0.25), ("hispanic", 0.25), ("african_american", 0.05)),
    "Asian": (("vietnamese", 0.6), ("chinese", 0.4)),
    "Other": (("hispanic", 0.5), ("cape_verdean", 0.2), ("somali", 0.15), ("african_american", 0.15)),
    "": (("african_american", 0.4), ("hispanic", 0.3), ("irish_anglo", 0.2), ("vietnamese", 0.1)),
}

# Officers' first names draw from these traditions (a city department's mix).
OFFICER_GROUPS: tuple[tuple[str, float], ...] = (
    ("irish_anglo", 0.42),
    ("italian_polish", 0.18),
    ("african_american", 0.16),
    ("hispanic", 0.12),
    ("haitian", 0.05),
    ("cape_verdean", 0.04),
    ("vietnamese", 0.03),
)

# Officers' surnames: a list of their own, kept apart from the subjects' lists so that no
# roster name ("LAST, FIRST") of the generator can coincide with one in the City's
# published FIO files (tests/synth checks this). Some are words (Crane, Field, Lord,
# Marsh, Sharp, Swift), so sign-offs stay hard for a name detector.
OFFICER_SURNAMES: tuple[str, ...] = _words(
    "Abernathy|Ainsworth|Ambrosino|Arsenault|Bannerman|Barros|Beaulieu|Belanger|Benoit|"
    "Bergeron|Blanchette|Bouchard|Boudreau|Breen|Brogan|Cabral|Carbone|Carrigan|Cella|"
    "Cheever|Cloutier|Colantonio|Conlon|Costigan|Crane|Cronin|Cullinane|Dacosta|Delaney|"
    "Desrosiers|Devane|Dionne|Dolan|Dorsey|Dufresne|Dunleavy|Fagan|Farrar|Faucher|Ferreira|"
    "Field|Finnegan|Flood|Fortier|Garrity|Gauthier|Giordano|Gilman|Glennon|Guerrero|Hale|"
    "Halloran|Hanlon|Hennessey|Iannone|Imbriano|Jarvis|Kenneally|Kilroy|Kowalchuk|Lacerda|"
    "Lafferty|Landry|Leary|Levesque|Lombardi|Lord|Loughran|Maguire|Marsh|McAuliffe|"
    "McDermott|Medeiros|Molloy|Mulcahy|Okafor|Ouellette|Pacheco|Paquette|Pelletier|Quaglia|"
    "Quigley|Raposo|Rocha|Roche|Ryder|Scanlon|Sharp|Silva|Souza|Swift|Szymanski|Thibodeau|"
    "Tracy|Vanterpool|Wolfe|Yeung|Zabala|Ferrucci|Guarino|Hickey|Mattos|Nardone|Ostrowski|"
    "Pimentel|Quirk|Santangelo|Tavano|Varela|Whitten|Lamothe|Dorelien|Vilsaint|Jean-Pierre|"
    "Desroches|Bautista|Echevarria|Montalvo|Arroyo|Betancourt|Cintron|Espinal|Truong|Luong|"
    "Quach|Trinh|Mensah|Adeyemi|Oduya|Whitfield|Ellington|Hairston|Marable|Pettiford|"
    "Saint-Hilaire|De Oliveira|Rivas-Ocampo|Nwosu|Clemons|Goode|Mayfield|Winslow"
)

# Street names and nicknames recorded in the alias column or written after "aka".
NICKNAMES: tuple[str, ...] = _words(
    "Lil Man|Bubba|Pooh|Boo|Smoke|Scrap|Ghost|Dre|Tay|Junior|Shorty|Peanut|Man-Man|"
    "Chino|Flaco|Gordo|Tito|Papo|Nene|Red|Stacks|Sav|Chucky|Buddha|Ace|Bam|Biggie|"
    "Cash|Deuce|Fats|Hollywood|Jelly|Kiko|Lucky|Moose|Nino|Ox|Pop|Rico|Sly|Squeaky|"
    "Tank|Twin|Yayo|Zoe|Skinny|Blue|Prince|Little Will|Big Country|Dollar"
)

# Templates that derive a nickname from the person's own first name.
NICKNAME_PATTERNS: tuple[str, ...] = ("Lil {first}", "Big {first}", "{first} Boy", "Young {first}")
