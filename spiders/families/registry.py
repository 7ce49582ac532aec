"""The one registry of site families: each family module registers its strategy here on import
(spiders.families imports them all, so ask it, not this module)."""
from __future__ import annotations

from spiders.families.base import SiteFamily, SourceConfig

_REGISTRY: dict[str, SiteFamily] = {}


def register(family: SiteFamily) -> SiteFamily:
    if family.name in _REGISTRY:
        raise ValueError(f"site family {family.name!r} registered twice")
    _REGISTRY[family.name] = family
    return family


def family_names() -> tuple[str, ...]:
    return tuple(sorted(_REGISTRY))


def family_for(source: SourceConfig) -> SiteFamily:
    return _REGISTRY[source.family]
