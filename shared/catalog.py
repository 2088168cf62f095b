"""License types HOME knows and what one license of each costs in credits, in quarters [decision]."""

CREDIT_COST_QUARTERS: dict[str, int] = {
    "HOME Pass": 1,
    "NMOS Importer": 4,
    "NMOS Exporter": 4,
    "NMOS Proxy": 8,
    "MV": 16,
    "Color Correction": 4,
}

LICENSE_TYPES = tuple(CREDIT_COST_QUARTERS)
