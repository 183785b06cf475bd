"""Reading policy files (YAML) and checking them against the policy schema.

Used by `scripts/regen.py` for the built-in policies and at run time for `--policies DIR`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mcplint.errors import PolicyError
from mcplint.load.yamlsource import load_file
from mcplint.resources import schema_text


def read_policy(path: Path, policy_schema: dict[str, Any] | None = None,
                ) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the policy, its documentation and examples) from one file, or PolicyError."""
    import jsonschema

    if policy_schema is None:
        policy_schema = json.loads(schema_text("policy.schema.json"))

    loaded = load_file(path)
    if loaded.problems:
        problem = loaded.problems[0]
        raise PolicyError(f"{path}:{problem.span.line}:{problem.span.column}: {problem.message}")
    policy = loaded.data
    errors = sorted(jsonschema.Draft202012Validator(policy_schema).iter_errors(policy),
                    key=lambda e: list(e.absolute_path))
    if errors:
        error = errors[0]
        where = "/" + "/".join(str(p) for p in error.absolute_path)
        span = loaded.source_map.value_span(where if where != "/" else "")
        raise PolicyError(f"{path}:{span.line}:{span.column}: {where}: {error.message}")
    for index, check in enumerate(policy.get("checks", [])):
        if "schema" in check:
            try:
                jsonschema.Draft202012Validator.check_schema(check["schema"])
            except jsonschema.SchemaError as error:
                raise PolicyError(f"{path}: checks[{index}].schema is not a valid JSON Schema: "
                                  f"{error.message}") from None
    docs = {"docs": policy["docs"], "examples": policy.get("examples", {})}
    return policy, docs
