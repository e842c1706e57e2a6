"""The synthetic region's partners: the system each agency records in, its teams and the
workers cases are allocated to. Shared by the region generator and the named scenarios."""

from __future__ import annotations

SYSTEMS = {
    "POLICE": "Niche RMS",
    "FIRE": "IRS",
    "HEALTH": "ED Symphony",
    "CHILDREN_SOCIAL_CARE": "Liquidlogic LCS",
    "ADULT_SOCIAL_CARE": "Mosaic",
    "EDUCATION": "SIMS",
    "HOUSING": "Orchard",
    "PROBATION": "nDelius",
}

TEAMS = {
    "POLICE": ("Response", "Public Protection Unit", "Neighbourhood Team"),
    "FIRE": ("Blue Watch", "Red Watch", "Prevention Team"),
    "HEALTH": ("ED Safeguarding", "Community Nursing"),
    "CHILDREN_SOCIAL_CARE": ("Children in Need North", "Looked After Children", "MASH"),
    "ADULT_SOCIAL_CARE": ("Adults North", "Adults South", "Hospital Discharge"),
    "EDUCATION": ("Education Welfare",),
    "HOUSING": ("Tenancy Sustainment",),
    "PROBATION": ("Offender Management",),
}

WORKERS = (
    "Sam Okafor",
    "Priya Shah",
    "Tom Beckett",
    "Aisha Rahman",
    "Lucy Evans",
    "Dan Whitmore",
    "Grace Mensah",
    "Owen Price",
    "Hannah Kaur",
    "Mark Doyle",
)
