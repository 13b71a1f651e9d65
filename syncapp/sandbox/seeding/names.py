"""Word lists and small generators for the seeded world: project and supplier names, ABNs.

Kept apart from the builder so the names a demo shows can be read (and changed) in one place.
Ordinary supplier names are drawn from PREFIXES x TRADES; the names of the special-case suppliers
use words that appear in neither list, so no ordinary vendor can ever look like a name match
for them.
"""

import random
import re

PROJECT_NAMES = [
    "Harbour Tower",
    "Riverside Apartments",
    "Westgate Logistics Centre",
    "Northpoint School Upgrade",
    "Bayview Hospital Wing",
    "Central Station Plaza",
    "Greenfield Townhouses",
    "Lakeside Aged Care",
    "Parkside Library",
    "Eastlink Data Centre",
    "Southbank Offices",
    "Hillcrest Retail Village",
]

PREFIXES = [
    "Acacia", "Banksia", "Bayside", "Blackwood", "Bridgewater", "Cedar", "Coastal", "Copperfield",
    "Eastside", "Granite", "Greenvale", "Highland", "Ironbark", "Jarrah", "Kestrel", "Lakeview",
    "Lighthouse", "Meridian", "Metro", "Northshore", "Oakridge", "Pinnacle", "Redgum", "Rivergum",
    "Sandstone", "Southern Cross", "Stringybark", "Tasman", "Westside", "Wattle", "Yarra", "Zenith",
]  # fmt: skip

WORK_ORDER = "WorkOrderContract"
PURCHASE_ORDER = "PurchaseOrderContract"

# Trade -> the kind of commitment such a supplier works under.
TRADES = [
    ("Concrete", WORK_ORDER), ("Electrical", WORK_ORDER), ("Plumbing", WORK_ORDER),
    ("Steel Fixing", WORK_ORDER), ("Formwork", WORK_ORDER), ("Carpentry", WORK_ORDER),
    ("Painting", WORK_ORDER), ("Roofing", WORK_ORDER), ("Demolition", WORK_ORDER),
    ("Excavation", WORK_ORDER), ("Fire Services", WORK_ORDER), ("Mechanical", WORK_ORDER),
    ("Joinery", WORK_ORDER), ("Waterproofing", WORK_ORDER), ("Building Supplies", PURCHASE_ORDER),
    ("Timber Supplies", PURCHASE_ORDER), ("Plant Hire", PURCHASE_ORDER), ("Precast", PURCHASE_ORDER),
    ("Hardware", PURCHASE_ORDER), ("Steel Supplies", PURCHASE_ORDER),
]  # fmt: skip

# Invoice-number shapes suppliers use. Different suppliers may well produce the same number,
# as in real life: an invoice number only means something together with its supplier.
INVOICE_FORMATS = ["INV-{n:05d}", "{p}-{n}", "{n}", "TI{n:06d}", "{p}{n:05d}"]

_ABN_WEIGHTS = (10, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19)


def abn(rng: random.Random) -> str:
    """A checksum-valid Australian Business Number, formatted as people write it: '51 824 753 556'."""
    while True:
        digits = [rng.randrange(1, 10)] + [rng.randrange(10) for _ in range(10)]
        checked = [digits[0] - 1, *digits[1:]]
        if sum(w * d for w, d in zip(_ABN_WEIGHTS, checked, strict=True)) % 89 == 0:
            text = "".join(map(str, digits))
            return f"{text[:2]} {text[2:5]} {text[5:8]} {text[8:]}"


def initials(name: str) -> str:
    return "".join(word[0] for word in name.split() if word[0].isalpha()).upper()


def normalised(name: str) -> str:
    """How the matching rules compare names: '&' = 'and', no punctuation, no case, no company
    suffix. Used here only to prove ordinary names never collide with the special cases."""
    text = name.lower().replace("&", " and ")
    text = re.sub(r"[^a-z0-9 ]+", " ", text)
    text = re.sub(r"\b(pty|ltd|limited|inc|llc|co)\b", " ", text)
    return " ".join(text.split())


# --- A large company (seeding.company): hundreds of projects, thousands of suppliers -------------

PLACES = [
    "Harbour", "Riverside", "Westgate", "Northpoint", "Bayview", "Central", "Greenfield", "Lakeside",
    "Parkside", "Eastlink", "Southbank", "Hillcrest", "Seaview", "Redfern", "Ashfield", "Brookvale",
    "Camden", "Dockside", "Elmwood", "Fairfield", "Glenroy", "Hawthorn", "Ironcove", "Jindalee",
    "Kirrawee", "Lilyfield", "Marrickville", "Newport", "Oatley", "Penrith", "Queenscliff", "Rosebery",
    "Stanmore", "Toongabbie", "Ultimo", "Valley", "Waterloo", "Yagoona", "Zetland", "Alexandria",
]  # fmt: skip
BUILDINGS = [
    "Tower", "Apartments", "Logistics Centre", "School Upgrade", "Hospital Wing", "Plaza", "Townhouses",
    "Aged Care", "Library", "Data Centre", "Offices", "Retail Village", "Medical Centre", "Car Park",
    "Warehouse", "Community Hall", "Sports Centre", "Hotel", "Station Upgrade", "Childcare Centre",
]  # fmt: skip
# Words after a supplier's prefix and trade. None of them is a company suffix the matching rules
# strip (see `normalised`), so two generated suppliers never share a normalised name.
SUPPLIER_SUFFIXES = ["", "Group", "Services", "Contracting", "Industries", "Solutions", "Australia", "Partners"]


def project_names(count: int, rng: random.Random) -> list[str]:
    """`count` distinct project names, in a random order; past PLACES x BUILDINGS, "Stage 2", ..."""
    combos = [f"{place} {building}" for place in PLACES for building in BUILDINGS]
    rng.shuffle(combos)
    return [
        combos[i % len(combos)] + (f" Stage {i // len(combos) + 1}" if i >= len(combos) else "") for i in range(count)
    ]


def supplier_combos(rng: random.Random) -> list[tuple[str, str, str]]:
    """Every (name, trade, kind) a large company's supplier can have, distinct once normalised,
    in a random order."""
    combos = [
        (" ".join(filter(None, (prefix, trade, suffix))), trade, kind)
        for prefix in PREFIXES
        for trade, kind in TRADES
        for suffix in SUPPLIER_SUFFIXES
    ]
    rng.shuffle(combos)
    return combos
