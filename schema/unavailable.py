"""Validation errors about names a role's schema does not hold, said in the hub's terms.

Each role has its own schema (schema.build): a field, argument, input field or type
the policy hides from a role is absent from it, and graphql-core answers as if it did
not exist ("Cannot query field 'religion' on type 'Citizen'."). The hub adds that the
name is not available to the caller's role, in the same words whether the name exists
for another role or for none: a different answer would let a role map the fields other
roles have (the role's own SDL is all it may know of the schema). graphql-core's
"Did you mean" suggestions are kept: they come from the role's own schema.
"""

from __future__ import annotations

import re

_FIELD = re.compile(r"^(Cannot query field '[^']*' on type '[^']*')\.")
_ARGUMENT = re.compile(r"^(Unknown argument '[^']*' on field '[^']*')\.")
_TYPE = re.compile(r"^(Unknown type '[^']*')\.")
_INPUT_FIELD = re.compile(r"(not to include unknown field '[^']*')(?=[.,])")

#: (pattern, what the role is told); the first that matches applies
_RULES = (
    (_FIELD, "no such field is available to your role"),
    (_ARGUMENT, "no such argument is available to your role"),
    (_TYPE, "no such type is available to your role"),
    (_INPUT_FIELD, "no such input field is available to your role"),
)


def for_the_role(message: str) -> str:
    """`message`, with what the caller's role lacks said where graphql-core names it."""
    for pattern, told in _RULES:
        if pattern is _INPUT_FIELD:  # within a sentence that goes on
            rewritten, count = pattern.subn(lambda m, told=told: f"{m.group(1)} ({told})", message, count=1)
        else:
            rewritten, count = pattern.subn(lambda m, told=told: f"{m.group(1)}: {told}.", message, count=1)
        if count:
            return rewritten
    return message


__all__ = ["for_the_role"]
