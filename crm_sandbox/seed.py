"""Demo data for a sandbox tenant: Nordic and European companies with one to three persons each,
the same on every run for the same tenant (a random generator seeded with its name)."""

import random
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from .entities import stripped
from .models import ChangeAction, ChangeRecord, Contact, ListItem, ListName, Person, SandboxTenant
from .services import sandbox_tenant


@dataclass(frozen=True)
class Market:
    iso: str
    tld: str
    dial: str
    suffixes: tuple[str, ...]
    first_names: tuple[str, ...]
    last_names: tuple[str, ...]
    places: tuple[str, ...]
    weight: int

    def org_nr(self, rng: random.Random) -> str:
        digits = lambda n: "".join(rng.choice("0123456789") for _ in range(n))  # noqa: E731
        return {
            "NO": lambda: f"9{digits(2)} {digits(3)} {digits(3)}",
            "SE": lambda: f"556{digits(3)}-{digits(4)}",
            "DK": lambda: f"DK{rng.randint(1, 9)}{digits(7)}",
            "FI": lambda: f"{rng.randint(1, 3)}{digits(6)}-{rng.randint(0, 9)}",
            "DE": lambda: f"HRB {rng.randint(10000, 99999)}",
            "NL": lambda: f"{rng.randint(1, 9)}{digits(7)}",
            "GB": lambda: f"{rng.randint(1, 14):02d}{digits(6)}",
        }[self.iso]()

    def phone(self, rng: random.Random, *, mobile: bool = False) -> str:
        groups = {"NO": (2, 2, 2, 2), "SE": (2, 3, 2, 2), "DK": (2, 2, 2, 2), "FI": (2, 3, 4),
                  "DE": (3, 4, 4), "NL": (2, 3, 4), "GB": (4, 3, 3)}[self.iso]
        first = {"NO": "4" if mobile else "2", "SE": "7" if mobile else "8", "DK": "2" if mobile else "3",
                 "FI": "4" if mobile else "9", "DE": "1" if mobile else "3", "NL": "6" if mobile else "2",
                 "GB": "7" if mobile else "2"}[self.iso]
        parts = [first + "".join(rng.choice("0123456789") for _ in range(groups[0] - 1))]
        parts += ["".join(rng.choice("0123456789") for _ in range(size)) for size in groups[1:]]
        return f"+{self.dial} " + " ".join(parts)


MARKETS = (
    Market("NO", "no", "47", ("AS", "AS", "ASA"),
           ("Ingrid", "Lars", "Kari", "Ole", "Silje", "Anders", "Marte", "Henrik", "Ingvild", "Erik", "Nora",
            "Jonas", "Solveig", "Magnus", "Hanne", "Øystein", "Tone", "Bjørn"),
           ("Hansen", "Johansen", "Olsen", "Larsen", "Andersen", "Pedersen", "Nilsen", "Kristiansen", "Berg",
            "Haugen", "Bakken", "Lie", "Dahl", "Solberg", "Strand", "Moen", "Eide", "Aas"),
           ("Oslo", "Bergen", "Trondheim", "Stavanger", "Tromsø", "Drammen", "Kristiansand", "Ålesund"), 30),
    Market("SE", "se", "46", ("AB", "AB", "Handelsbolag"),
           ("Anna", "Erik", "Maria", "Karl", "Emma", "Johan", "Sara", "Per", "Linnea", "Mikael", "Elin",
            "Oskar", "Frida", "Gustav", "Karin", "Nils"),
           ("Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson", "Olsson", "Persson",
            "Svensson", "Gustafsson", "Lindberg", "Lindqvist", "Berglund", "Sjöberg", "Holm", "Ek"),
           ("Stockholm", "Göteborg", "Malmö", "Uppsala", "Linköping", "Örebro", "Umeå", "Västerås"), 25),
    Market("DK", "dk", "45", ("ApS", "A/S"),
           ("Mette", "Søren", "Camilla", "Rasmus", "Louise", "Mads", "Julie", "Frederik", "Anne", "Jesper",
            "Sofie", "Thomas", "Ida", "Kasper"),
           ("Jensen", "Nielsen", "Hansen", "Pedersen", "Andersen", "Christensen", "Larsen", "Sørensen",
            "Rasmussen", "Jørgensen", "Madsen", "Kristensen", "Møller", "Poulsen"),
           ("København", "Aarhus", "Odense", "Aalborg", "Esbjerg", "Vejle", "Roskilde", "Horsens"), 15),
    Market("FI", "fi", "358", ("Oy", "Oy", "Oyj"),
           ("Aino", "Juha", "Laura", "Mikko", "Elina", "Timo", "Sanna", "Antti", "Johanna", "Jukka", "Veera",
            "Ville"),
           ("Korhonen", "Virtanen", "Mäkinen", "Nieminen", "Mäkelä", "Hämäläinen", "Laine", "Heikkinen",
            "Koskinen", "Järvinen", "Lehtonen", "Saarinen"),
           ("Helsinki", "Espoo", "Tampere", "Turku", "Oulu", "Jyväskylä", "Lahti", "Kuopio"), 12),
    Market("DE", "de", "49", ("GmbH", "GmbH", "AG", "KG"),
           ("Julia", "Lukas", "Anna", "Felix", "Laura", "Jonas", "Katrin", "Stefan", "Sabine", "Tobias",
            "Miriam", "Jan"),
           ("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Hoffmann",
            "Schulz", "Koch", "Richter"),
           ("Hamburg", "Berlin", "München", "Köln", "Frankfurt", "Bremen", "Kiel", "Hannover"), 8),
    Market("NL", "nl", "31", ("B.V.", "B.V.", "N.V."),
           ("Sanne", "Daan", "Lotte", "Bram", "Eva", "Thijs", "Femke", "Ruben", "Anouk", "Joost"),
           ("de Jong", "Jansen", "de Vries", "van den Berg", "Bakker", "Visser", "Smit", "Meijer",
            "de Boer", "Mulder"),
           ("Amsterdam", "Rotterdam", "Utrecht", "Eindhoven", "Groningen", "Den Haag"), 5),
    Market("GB", "co.uk", "44", ("Ltd", "Ltd", "plc"),
           ("Emily", "James", "Sophie", "Oliver", "Charlotte", "Harry", "Lucy", "George", "Hannah", "Thomas"),
           ("Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Evans", "Thomas", "Roberts",
            "Walker"),
           ("London", "Manchester", "Leeds", "Bristol", "Edinburgh", "Glasgow", "Aberdeen", "Newcastle"), 5),
)

STEMS = ("Nord", "Fjord", "Skog", "Berg", "Vik", "Sol", "Havn", "Fjell", "Stein", "Lys", "Bølge", "Norr",
         "Väst", "Öst", "Sjö", "Ek", "Lind", "Björk", "Strand", "Dal", "Elv", "Polar", "Aurora", "Viking",
         "Granit", "Kobber", "Saga", "Frost", "Lake", "Brook", "Harbour", "North", "Atlantic", "Baltic")
ENDINGS = ("tek", "data", "bygg", "energi", "logistikk", "konsult", "handel", "media", "system", "design",
           "invest", "mekanikk", "elektro", "transport", "solutions", "labs", "works", "group", "partner")
TRADES = ("Consulting", "Bygg", "Eiendom", "Regnskap", "Engineering", "Software", "Marine", "Shipping",
          "Foods", "Analytics", "Security", "Health", "Retail", "Energy", "Automation")
DEPARTMENTS = ("Sales", "Head office", "Purchasing", "Finance", "Support", "Operations")
TITLES = ("Head of Sales", "Purchasing Manager", "CEO", "CFO", "IT Manager", "Project Manager",
          "Account Manager", "Controller", "Office Manager", "Consultant", "Operations Manager",
          "Marketing Lead")
# Category weights: mostly customers and prospects.
CATEGORY_WEIGHTS = {"Customer": 40, "Prospect": 30, "Partner": 10, "Supplier": 10, "Competitor": 3,
                    "Press": 2, "Former customer": 5}


def ascii_slug(text: str) -> str:
    replaced = text.lower().replace("ø", "o").replace("æ", "ae").replace("å", "a").replace("ß", "ss")
    plain = unicodedata.normalize("NFKD", replaced).encode("ascii", "ignore").decode()
    return "".join(c for c in plain if c.isalnum())


def _element(kind: str, value: str, description: str = "") -> dict:
    return {"Value": value, "StrippedValue": stripped(kind, value), "Description": description}


def _company_name(rng: random.Random, market: Market, used: set[str]) -> tuple[str, str]:
    while True:
        shape = rng.random()
        if shape < 0.45:
            base = rng.choice(STEMS) + rng.choice(ENDINGS)
        elif shape < 0.8:
            base = f"{rng.choice(STEMS)}{rng.choice(ENDINGS)} {rng.choice(TRADES)}"
        else:
            base = f"{rng.choice(market.last_names)} & {rng.choice(market.last_names)}"
        name = f"{base} {rng.choice(market.suffixes)}"
        if name not in used:
            used.add(name)
            return name, ascii_slug(base)


def _persons(rng: random.Random, tenant: SandboxTenant, contact: Contact, market: Market, domain: str,
             positions: list[ListItem]) -> list[Person]:
    persons = []
    for _ in range(rng.choice((1, 1, 2, 2, 3))):
        first, last = rng.choice(market.first_names), rng.choice(market.last_names)
        address = f"{ascii_slug(first)}.{ascii_slug(last)}@{domain}"
        persons.append(Person(
            tenant=tenant, contact=contact, firstname=first, lastname=last, title=rng.choice(TITLES),
            emails=[_element("Emails", address)],
            office_phones=[_element("OfficePhones", market.phone(rng))] if rng.random() < 0.6 else [],
            mobile_phones=[_element("MobilePhones", market.phone(rng, mobile=True))],
            position=rng.choice(positions), created_date=contact.created_date,
            updated_date=contact.updated_date))
    return persons


def seed(*, environment_code: str, context_identifier: str, companies: int = 300,
         now: datetime | None = None) -> tuple[int, int]:
    """Creates ``companies`` companies and their persons; (companies, persons) created, or (0, 0)
    when the tenant already has companies."""
    tenant = sandbox_tenant(environment_code=environment_code, context_identifier=context_identifier)
    if Contact.objects.filter(tenant=tenant).exists():
        return 0, 0
    now = now or timezone.now()
    rng = random.Random(f"{environment_code}/{context_identifier}")
    items = {name: {item.name: item for item in ListItem.objects.filter(tenant=tenant, list_name=name)}
             for name in ListName.values}
    positions = list(items[ListName.POSITION].values())
    businesses = list(items[ListName.BUSINESS].values())
    markets, weights = list(MARKETS), [m.weight for m in MARKETS]
    used: set[str] = set()
    contacts, person_groups = [], []
    for number in range(companies):
        market = rng.choices(markets, weights)[0]
        name, slug = _company_name(rng, market, used)
        domain = f"{slug}.{market.tld}"
        created = now - timedelta(days=rng.randint(30, 1500), minutes=rng.randint(0, 1439))
        updated = min(now, created + timedelta(days=rng.randint(0, 400), minutes=rng.randint(0, 1439)))
        contact = Contact(
            tenant=tenant, name=name, org_nr=market.org_nr(rng), number1=str(10001 + number),
            department=rng.choice(DEPARTMENTS) if rng.random() < 0.15 else "",
            description=f"{rng.choice(TRADES)} company in {rng.choice(market.places)}.",
            phones=[_element("Phones", market.phone(rng), "Switchboard")],
            emails=[_element("Emails", f"{rng.choice(('post', 'info', 'kontakt', 'hello'))}@{domain}")],
            urls=[_element("Urls", f"https://www.{domain}")],
            country=next(i for i in items[ListName.COUNTRY].values() if i.code == market.iso),
            category=items[ListName.CATEGORY][
                rng.choices(list(CATEGORY_WEIGHTS), list(CATEGORY_WEIGHTS.values()))[0]],
            business=rng.choice(businesses), created_date=created, updated_date=updated)
        contacts.append(contact)
        person_groups.append((market, domain))
    with transaction.atomic():
        SandboxTenant.objects.select_for_update().filter(pk=tenant.pk).exists()
        Contact.objects.bulk_create(contacts)
        persons = [p for contact, (market, domain) in zip(contacts, person_groups, strict=True)
                   for p in _persons(rng, tenant, contact, market, domain, positions)]
        Person.objects.bulk_create(persons)
        ChangeRecord.objects.bulk_create(
            [ChangeRecord(tenant=tenant, table="Contact", row_id=c.pk, action=ChangeAction.INSERT, at=now)
             for c in contacts]
            + [ChangeRecord(tenant=tenant, table="Person", row_id=p.pk, action=ChangeAction.INSERT, at=now)
               for p in persons])
    return len(contacts), len(persons)
