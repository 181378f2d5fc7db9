"""Business constants of the synthetic company: stages, teams, segments, prices, seasonality, hazards.

Everything the simulation steps share and never change; the numbers are the "truth" that the
models and KPIs of revops-kit are expected to find in the sample data.
"""

from __future__ import annotations

import math

SEGMENTS = ("SMB", "Mid-Market", "Enterprise")
CHANNELS = ("organic", "paid_search", "partner", "outbound")
#: Customer names that must be rendered as text, never interpreted (HTML, spreadsheet formulas).
HOSTILE_NAMES = (
    '<script>alert("x")</script> Labs',
    '=HYPERLINK("http://x","y") Ltd',
    "@Risk Partners",
    "+Plus Co",
)
#: Calendar months kept before the window start (history of early opportunities).
OFF = 36

STAGES = ("Prospecting", "Qualification", "Proposal", "Negotiation", "Closed Won", "Closed Lost")
STAGE_PROB = (0.1, 0.2, 0.4, 0.7, 1.0, 0.0)
STAGE_FC = ("pipeline", "pipeline", "best_case", "commit", "closed", "omitted")
WON, LOST = 4, 5  # stage indexes of Closed Won / Closed Lost

TEAMS = ("SMB Sales", "Mid-Market Sales", "Enterprise Sales")
REPS = (
    ("Ivy Chen", "Jonas Weber", "Kate O'Brien", "Liam Novak", "Maya Patel"),
    ("Noah Fischer", "Olivia Santos", "Pablo Ruiz", "Quinn Murphy"),
    ("Rosa Lindqvist", "Sam Adeyemi", "Tara Nakamura"),
)
CSMS = (
    ("Alice Moreau", "Ben Okafor", "Carla Jensen"),
    ("David Kim", "Elena Rossi", "Farid Haddad"),
    ("Grace Liu", "Hugo Martins"),
)
SOURCES = ("inbound", "outbound", "partner", "event")
SOURCE_WIN = {"inbound": 1.15, "outbound": 0.6, "partner": 1.4, "event": 0.9}
SEG_WIN = (0.34, 0.25, 0.16)
CYCLE_DAYS = (25.0, 70.0, 140.0)  # median new-business sales cycle by segment
CHANNEL_P = (0.30, 0.30, 0.15, 0.25)
SEG_GIVEN_CHANNEL = ((0.72, 0.22, 0.06), (0.76, 0.19, 0.05), (0.45, 0.38, 0.17), (0.30, 0.44, 0.26))
MRR_MEDIAN = (280.0, 2200.0, 15000.0)
MRR_SIGMA = (0.45, 0.38, 0.42)
MRR_CLIP = ((100.0, 800.0), (1000.0, 5000.0), (8000.0, 40000.0))
PLANS = ("Starter", "Growth", "Scale")
PLAN_P = ((0.75, 0.25, 0.0), (0.0, 0.75, 0.25), (0.0, 0.15, 0.85))
PRICE = {  # list price per seat and month
    "USD": {"Starter": 20.0, "Growth": 40.0, "Scale": 65.0, "Add-on": 9.0},
    "EUR": {"Starter": 18.0, "Growth": 36.0, "Scale": 59.0, "Add-on": 8.0},
}
REGIONS = ("NA", "EMEA", "APAC")
REGION_P = (0.55, 0.30, 0.15)
COUNTRIES = {
    "NA": (("US", "CA"), (0.85, 0.15)),
    "EMEA": (("DE", "FR", "GB", "NL", "ES", "IT", "IE", "SE"),
             (0.22, 0.16, 0.20, 0.10, 0.08, 0.08, 0.06, 0.10)),
    "APAC": (("AU", "SG", "JP", "IN"), (0.35, 0.25, 0.20, 0.20)),
}
EURO = {"DE", "FR", "NL", "ES", "IT", "IE"}
TLD = {"US": ".com", "CA": ".ca", "DE": ".de", "FR": ".fr", "GB": ".co.uk", "NL": ".nl",
        "ES": ".es", "IT": ".it", "IE": ".ie", "SE": ".se", "AU": ".com.au", "SG": ".sg",
        "JP": ".jp", "IN": ".in"}
INDUSTRIES = ("Software", "Financial Services", "Healthcare", "Retail", "Manufacturing",
               "Education", "Media", "Logistics", "Professional Services", "Telecommunications")
CAMPAIGNS = {
    "organic": ("seo-content", "webinar-series", "community"),
    "paid_search": ("google-brand", "google-generic", "bing-generic"),
    "partner": ("reseller-program", "tech-alliance"),
    "outbound": ("sdr-sequence", "abm-enterprise", "field-events"),
}
NAME_A = (
    "Acme", "Apex", "Atlas", "Aurora", "Beacon", "Birch", "Blue River", "Bright", "Cascade",
    "Cedar", "Cobalt", "Copper", "Crescent", "Crystal", "Delta", "Echo", "Ember", "Evergreen",
    "Falcon", "Fern", "Flux", "Forge", "Granite", "Harbor", "Helix", "Horizon", "Indigo", "Iron",
    "Juniper", "Keystone", "Kite", "Lakeside", "Lumen", "Maple", "Meridian", "Mosaic", "Nimbus",
    "North Star", "Nova", "Oak", "Onyx", "Orbit", "Pacific", "Pine", "Pioneer", "Pixel", "Polar",
    "Prism", "Quartz", "Quantum", "Radiant", "Red Rock", "Ridge", "River", "Sage", "Sapphire",
    "Silver", "Summit", "Sun", "Swift", "Terra", "Tidal", "Timber", "Trident", "True North",
    "Union", "Vector", "Velvet", "Vertex", "Vista", "Wave", "Willow", "Zenith", "Zephyr", "Alder",
    "Basalt", "Clearwater", "Driftwood", "Granite Peak", "Highland",
)
NAME_B = (
    "Analytics", "Logistics", "Health", "Labs", "Systems", "Foods", "Media", "Capital",
    "Robotics", "Energy", "Retail", "Software", "Studios", "Partners", "Networks", "Biotech",
    "Learning", "Insurance", "Motors", "Materials", "Telecom", "Consulting", "Dynamics",
    "Solutions", "Ventures", "Pharma", "Apparel", "Freight", "Security", "Travel", "Brewing",
    "Games", "Clinics", "Finance", "Marine", "Aerospace", "Farms", "Realty", "Textiles", "Devices",
)
QUARTER_SEASON = (0.80, 1.00, 0.95, 1.30)  # calendar quarter factor of new business
MONTH_IN_Q_SEASON = (0.80, 0.95, 1.30)  # first, second, last month of a quarter
GROWTH = math.log(3.5) / 47.0  # monthly growth of acquisitions (x3.5 over four years)
PHI, SIGMA = 0.85, 0.3  # AR(1) of the health process
BETA = 1.8  # churn log-odds per unit of health
MONTHLY_CHURN_A = (-3.95, -4.5, -5.0)  # monthly contracts, at any billing date
RENEWAL_CHURN_A = (-1.75, -2.4, -3.0)  # annual contracts, at committed_end_date
SEAT_EXP_A = (-4.6, -4.0, -3.6)
SEAT_CON_A = (-4.3, -4.3, -4.3)




def sigmoid(x: float) -> float:
    """Logistic function (scalar)."""
    return 1.0 / (1.0 + math.exp(-x))
