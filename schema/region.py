"""Region reference data (kecamatan and kelurahan with their codes), from configuration."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml


@dataclass(frozen=True, slots=True)
class KelurahanInfo:
    code: str
    name: str
    kecamatan: str


@dataclass(frozen=True, slots=True)
class Region:
    name: str
    city: str
    province: str
    kelurahan: dict[str, KelurahanInfo]
    time_zone: str = "Asia/Jakarta"  # IANA name; the public page shows local times in it
    time_zone_label: str = "WIB"  # how residents name it: WIB, WITA or WIT

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def kelurahan_named(self, code: str) -> KelurahanInfo:
        """The kelurahan for a code; unknown codes (moved-in data) keep the code as name."""
        info = self.kelurahan.get(code)
        return info if info is not None else KelurahanInfo(code, code, "")


class RegionError(ValueError):
    pass


def load_region(path: Path) -> Region:
    try:
        data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
        kelurahan = {}
        for item in data["kelurahan"]:
            code = str(item["code"])
            if len(code) != 10 or not code.isdigit():
                raise RegionError(f"{path}: kelurahan code {code!r} is not 10 digits")
            kelurahan[code] = KelurahanInfo(code, str(item["name"]), str(item["kecamatan"]))
        for item in data.get("kecamatan", []):
            for key in ("valid_from", "valid_to"):
                if key in item and not isinstance(item[key], date):
                    raise RegionError(f"{path}: kecamatan {item.get('name')}: {key} is not a date")
        zone = str(data.get("time_zone", "Asia/Jakarta"))
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise RegionError(f"{path}: time_zone {zone!r} is not a known IANA time zone") from exc
        return Region(str(data["name"]), str(data["city"]), str(data["province"]), kelurahan,
                      time_zone=zone, time_zone_label=str(data.get("time_zone_label", "WIB")))
    except (OSError, KeyError, TypeError, yaml.YAMLError) as exc:
        raise RegionError(f"{path}: not a usable region file ({exc!r})") from exc
