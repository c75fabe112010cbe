"""The small lists each sandbox tenant starts with: (name, code) in rank order; the Id is the rank."""

from .models import ListName

COUNTRIES = [
    ("Norway", "NO"), ("Sweden", "SE"), ("Denmark", "DK"), ("Finland", "FI"), ("Iceland", "IS"),
    ("Germany", "DE"), ("Netherlands", "NL"), ("Belgium", "BE"), ("Luxembourg", "LU"),
    ("United Kingdom", "GB"), ("Ireland", "IE"), ("France", "FR"), ("Switzerland", "CH"),
    ("Austria", "AT"), ("Poland", "PL"), ("Estonia", "EE"), ("Spain", "ES"), ("Italy", "IT"),
]
CATEGORIES = ["Customer", "Prospect", "Partner", "Supplier", "Competitor", "Press", "Former customer"]
BUSINESSES = ["Consulting", "Construction", "Education", "Energy", "Finance", "Food and beverage",
              "Healthcare", "IT and software", "Logistics", "Manufacturing", "Media", "Public sector",
              "Real estate", "Retail", "Telecom", "Travel"]
POSITIONS = ["Chief Executive Officer", "Chief Financial Officer", "Chief Technology Officer",
             "Sales Manager", "Purchasing Manager", "Account Manager", "Project Manager", "Marketing Manager",
             "IT Manager", "Controller", "Consultant", "Office Manager", "Engineer", "Developer"]

LISTS: dict[str, list[tuple[str, str]]] = {
    ListName.COUNTRY: COUNTRIES,
    ListName.CATEGORY: [(name, "") for name in CATEGORIES],
    ListName.BUSINESS: [(name, "") for name in BUSINESSES],
    ListName.POSITION: [(name, "") for name in POSITIONS],
}
