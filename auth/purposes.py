"""Purposes of access: why a principal looks at personal data.

Each purpose has a code (the `X-Access-Purpose` header), a description in Indonesian
and English, the roles that may use it, and the kind of case it is bound to, if any
(`case: application` or `case: complaint`): such a purpose needs `X-Access-Case`
naming a case of that kind. The list is configuration (`auth/default_purposes.yaml`,
replaceable), validated at start-up.

`PurposeRegistry.check` is a pure decision; a refusal carries the code
`PURPOSE_REQUIRED` and a reason safe to show to the caller. It only checks the case
number's form: that the case exists and which records belong to it is the schema's
work (`schema.cases`), which reads the case from its source. A case given with a
purpose bound to no case kind cannot be checked, so it is not part of the decision
(and never reaches the ledger). A service account's token may carry a fixed purpose:
it is used when the header is absent, and a header naming another purpose is refused.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

from auth.policy import PolicyError
from auth.policy._yaml import read_yaml
from auth.principal import Principal

DEFAULT_PURPOSES_FILE = "default_purposes.yaml"
PURPOSE_REQUIRED = "PURPOSE_REQUIRED"
MAX_CASE_LENGTH = 64

_CODE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_CASE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]*")
_PURPOSE_KEYS = frozenset({"description", "roles", "case", "case_required"})
_LANGUAGES = ("id", "en")

#: The kinds of case a purpose may be bound to: the number of an application in the
#: licensing system, or of a complaint in the complaint system.
CASE_KINDS = ("application", "complaint")


@dataclass(frozen=True, slots=True)
class Purpose:
    code: str
    description_id: str
    description_en: str
    roles: frozenset[str]
    case_kind: str | None  # one of CASE_KINDS: the purpose needs such a case; None: no case

    @property
    def case_required(self) -> bool:
        return self.case_kind is not None


@dataclass(frozen=True, slots=True)
class PurposeDecision:
    allowed: bool
    reason: str
    code: str | None = None  # PURPOSE_REQUIRED when refused
    purpose: str | None = None  # the purpose in force (from the header or the token)
    case: str | None = None  # the case number given, for a purpose bound to a case kind
    case_kind: str | None = None  # that purpose's case kind

    def __bool__(self) -> bool:
        return self.allowed


def _refuse(reason: str) -> PurposeDecision:
    return PurposeDecision(False, reason, code=PURPOSE_REQUIRED)


def _shown(value: str) -> str:
    """A header value quoted back to the caller, short and printable."""
    clean = "".join(ch if ch.isprintable() else "?" for ch in value[:40])
    return repr(clean + ("..." if len(value) > 40 else ""))


@dataclass(frozen=True, eq=False)  # compared and hashed by identity
class PurposeRegistry:
    source: str
    purposes: Mapping[str, Purpose]

    def for_roles(self, roles: Iterable[str]) -> tuple[Purpose, ...]:
        """The purposes a holder of `roles` may give, by code."""
        held = frozenset(roles)
        return tuple(p for _, p in sorted(self.purposes.items()) if p.roles & held)

    def _open_to(self, principal: Principal) -> str:
        """The purposes the caller may give, said in a refusal (the codes are configuration,
        not secrets; only those of the caller's own roles are named)."""
        if principal.purpose is not None:
            return f"this client uses the purpose {principal.purpose!r}"
        codes = [p.code + (f" (with X-Access-Case: the {p.case_kind} number)" if p.case_kind else "")
                 for p in self.for_roles(principal.roles)]
        if not codes:
            return "no purpose is open to your roles: they may not read personal data"
        return "purposes open to your roles: " + ", ".join(codes)

    def check(self, principal: Principal, purpose: str | None, case: str | None) -> PurposeDecision:
        """Decide whether `principal` may read personal data for `purpose` (the header,
        None when absent) in `case` (the case header, None when absent)."""
        given = (purpose or "").strip() or None
        fixed = principal.purpose
        if given is not None and fixed is not None and given != fixed:
            return _refuse(f"this client may only use the purpose {fixed!r}")
        code = given or fixed
        if code is None:
            return _refuse(f"X-Access-Purpose is required for personal data; {self._open_to(principal)}")
        found = self.purposes.get(code)
        if found is None:
            return _refuse(f"unknown purpose {_shown(code)}; {self._open_to(principal)}")
        if not found.roles & principal.roles:
            return _refuse(f"the purpose {code!r} is not open to the caller's roles; {self._open_to(principal)}")
        case_number = (case or "").strip() or None
        if case_number is not None and (
            len(case_number) > MAX_CASE_LENGTH or not _CASE.fullmatch(case_number)
        ):
            return _refuse(
                f"X-Access-Case is malformed: up to {MAX_CASE_LENGTH} letters, digits,"
                " '.', '_', '/', '-'"
            )
        kind = found.case_kind
        if kind is None:  # nothing to check it against: not part of this purpose
            return PurposeDecision(True, f"purpose {code!r}", purpose=code)
        if case_number is None:
            return _refuse(f"the purpose {code!r} requires X-Access-Case (the {kind} number)")
        return PurposeDecision(True, f"purpose {code!r}", purpose=code, case=case_number, case_kind=kind)


def load_purposes(
    path: Path | None = None, *, roles: Iterable[str] | None = None
) -> PurposeRegistry:
    """Load and validate a purpose file (None: the one shipped with the hub). Every role
    a purpose names must be in `roles`, the loaded policy's (None: any name)."""
    if path is None:
        resource = resources.files("auth").joinpath(DEFAULT_PURPOSES_FILE)
        with resources.as_file(resource) as real_path:
            data = read_yaml(real_path, display_name=DEFAULT_PURPOSES_FILE)
        source = DEFAULT_PURPOSES_FILE
    else:
        source = str(path)
        data = read_yaml(Path(path), display_name=source)
    return parse_purposes(data, roles=roles, source=source)


def parse_purposes(
    data: Any, *, roles: Iterable[str] | None = None, source: str = "<purposes>"
) -> PurposeRegistry:
    known = None if roles is None else frozenset(roles)
    if not isinstance(data, dict) or set(data) - {"version", "purposes"}:
        raise PolicyError("expected a mapping with `version` and `purposes`", file=source)
    if data.get("version") != 1:
        raise PolicyError(f"version: expected 1, got {data.get('version')!r}", file=source)
    body = data.get("purposes")
    if not isinstance(body, dict) or not body:
        raise PolicyError("purposes: expected a mapping of purpose code to its rules", file=source)
    parsed = {code: _purpose(source, code, entry, known) for code, entry in body.items()}
    return PurposeRegistry(source=source, purposes=MappingProxyType(parsed))


def _purpose(source: str, code: Any, entry: Any, known: frozenset[str] | None) -> Purpose:
    def error(message: str, key: str | None = None) -> PolicyError:
        where = f"purpose {code!r}" + (f": {key}" if key else "")
        return PolicyError(message, file=source, entry=where)

    if not isinstance(code, str) or len(code) > MAX_CASE_LENGTH or not _CODE.fullmatch(code):
        raise error("a purpose code is lower-case letters and digits joined by '-'")
    if not isinstance(entry, dict):
        raise error("expected a mapping with description, roles and case")
    unknown = sorted(map(str, set(entry) - _PURPOSE_KEYS))
    if unknown:
        raise error(f"unknown keys {unknown}")
    description = entry.get("description")
    if (
        not isinstance(description, dict)
        or set(description) != set(_LANGUAGES)
        or not all(
            isinstance(description[lang], str) and description[lang].strip() for lang in _LANGUAGES
        )
    ):
        raise error("expected `id` and `en` texts", "description")
    role_list = entry.get("roles")
    if not isinstance(role_list, list) or not role_list:
        raise error("expected a non-empty list of role names", "roles")
    if not all(isinstance(r, str) for r in role_list):
        raise error("expected a non-empty list of role names", "roles")
    for role in role_list:
        if known is not None and role not in known:
            raise error(f"unknown role {role!r}", "roles")
    kind = entry.get("case")
    if kind is not None and kind not in CASE_KINDS:
        raise error(f"expected one of {list(CASE_KINDS)} or nothing, got {kind!r}", "case")
    # the key `case` replaced `case_required: true`, which said nothing of the kind; a
    # file written before may still say `case_required: false`
    if entry.get("case_required", False) is not False:
        raise error("replaced by `case: application` or `case: complaint` (the kind of case"
                    " the purpose needs)", "case_required")
    return Purpose(
        code=code,
        description_id=description["id"].strip(),
        description_en=description["en"].strip(),
        roles=frozenset(role_list),
        case_kind=kind,
    )
