"""The region the data is generated for, read from a region file (YAML).

The format is that of `hub/reference/regions.yaml`: `name`, `city`, `province`,
`nik_region_prefixes`, `kecamatan` (code, name, valid_from, valid_to) and `kelurahan`
(10-digit code, name, kecamatan name, `share` of the population).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from demo.generator.errors import RegionFileError

_KEL_CODE = re.compile(r"^\d{10}$")
_KEC_CODE = re.compile(r"^\d{6}$")


@dataclass(frozen=True, slots=True)
class Kecamatan:
    code: str
    name: str
    valid_from: date | None
    valid_to: date | None


@dataclass(frozen=True, slots=True)
class Kelurahan:
    code: str  # 10 digits: province 2, city 2, kecamatan 2, kelurahan 4
    name: str
    kecamatan: Kecamatan
    share: float


@dataclass(frozen=True, slots=True)
class Region:
    name: str
    city: str
    province: str
    nik_region_prefixes: tuple[str, ...]
    kelurahan: tuple[Kelurahan, ...]

    @property
    def city_name(self) -> str:
        """The city without its administrative prefix ("Kota Pekanbaru" -> "Pekanbaru")."""
        for prefix in ("Kota ", "Kabupaten ", "Kab. "):
            if self.city.startswith(prefix):
                return self.city[len(prefix) :]
        return self.city


def load_region(path: Path) -> Region:
    """Read and validate a region file; bad content raises `RegionFileError`."""
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise RegionFileError(f"cannot read region file {path}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise RegionFileError(f"region file {path} is not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise RegionFileError(f"region file {path} must hold a mapping")
    return parse_region(raw, source=str(path))


def parse_region(raw: dict[str, Any], *, source: str = "region") -> Region:
    try:
        prefixes = tuple(str(p) for p in raw.get("nik_region_prefixes") or ())
        kecamatan = [_kecamatan(k) for k in raw["kecamatan"]]
        current = _current_kecamatan(kecamatan)
        kelurahan = tuple(_kelurahan(k, current) for k in raw["kelurahan"])
        region = Region(
            name=str(raw["name"]),
            city=str(raw.get("city", "")),
            province=str(raw.get("province", "")),
            nik_region_prefixes=prefixes,
            kelurahan=kelurahan,
        )
    except RegionFileError:
        raise
    except (KeyError, TypeError, ValueError) as exc:
        raise RegionFileError(f"{source}: missing or malformed entry ({exc!r})") from exc
    if not kelurahan:
        raise RegionFileError(f"{source}: no kelurahan listed")
    if not prefixes or not all(_KEC_CODE.match(p) for p in prefixes):
        raise RegionFileError(f"{source}: nik_region_prefixes must be 6-digit codes")
    if sum(k.share for k in kelurahan) <= 0:
        raise RegionFileError(f"{source}: kelurahan shares must add up to more than 0")
    return region


def _date(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def _kecamatan(raw: dict[str, Any]) -> Kecamatan:
    code = str(raw["code"])
    if not _KEC_CODE.match(code):
        raise RegionFileError(f"kecamatan code {code!r} is not 6 digits")
    return Kecamatan(
        code=code,
        name=str(raw["name"]),
        valid_from=_date(raw.get("valid_from")),
        valid_to=_date(raw.get("valid_to")),
    )


def _current_kecamatan(kecamatan: list[Kecamatan]) -> dict[str, Kecamatan]:
    """Kecamatan by name, preferring the entry that is still valid (no valid_to)."""
    by_name: dict[str, Kecamatan] = {}
    for kec in kecamatan:
        if kec.name not in by_name or kec.valid_to is None:
            by_name[kec.name] = kec
    return by_name


def _kelurahan(raw: dict[str, Any], kecamatan: dict[str, Kecamatan]) -> Kelurahan:
    code = str(raw["code"])
    if not _KEL_CODE.match(code):
        raise RegionFileError(f"kelurahan code {code!r} is not 10 digits")
    kec_name = str(raw["kecamatan"])
    if kec_name not in kecamatan:
        raise RegionFileError(f"kelurahan {raw.get('name')!r} names unknown kecamatan {kec_name!r}")
    kec = kecamatan[kec_name]
    if not code.startswith(kec.code):
        raise RegionFileError(f"kelurahan code {code} does not start with kecamatan code {kec.code}")
    share = float(raw.get("share", 1.0))
    if share < 0:
        raise RegionFileError(f"kelurahan {code} has a negative share")
    return Kelurahan(code=code, name=str(raw["name"]), kecamatan=kec, share=share)
