"""Load and validate the workflow configuration and sample sheets against the shipped JSON-Schemas."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import jsonschema
import pandas as pd
import yaml

from zeostem.errors import InputError

SCHEMA_DIR = Path(__file__).resolve().parents[1] / "schemas"  # package data: installed with zeostem


def load_schema(name: str) -> dict:
    """A schema shipped with the package (``src/zeostem/schemas/``: ``config``, ``conformations``, …)."""
    return yaml.safe_load((SCHEMA_DIR / f"{name}.schema.yaml").read_text())


def _fill_defaults(instance: Any, schema: dict) -> None:
    """Insert every ``default`` of the schema's object properties into ``instance`` (recursively)."""
    if not isinstance(instance, dict):
        return
    for key, sub in schema.get("properties", {}).items():
        if key not in instance and "default" in sub:
            instance[key] = copy.deepcopy(sub["default"])
        if key in instance:
            _fill_defaults(instance[key], sub)


def validate_config(config: dict, source: str | Path = "config") -> dict:
    """Validate ``config`` against the shipped config schema; return a copy with defaults filled in."""
    schema = load_schema("config")
    filled = copy.deepcopy(config or {})
    _fill_defaults(filled, schema)
    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(filled), key=lambda e: list(e.path))
    if errors:
        where = "/".join(map(str, errors[0].absolute_path)) or "(top level)"
        raise InputError(
            f"invalid configuration at `{where}`: {errors[0].message}",
            path=source,
            fix="see src/zeostem/schemas/config.schema.yaml for every key, its type and default",
        )
    return filled


def load_config(path: str | Path) -> dict:
    """Read a YAML config file and validate it."""
    path = Path(path)
    try:
        config = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise InputError(f"cannot read the configuration ({exc})", path=path) from exc
    return validate_config(config, path)


def read_sheet(path: str | Path, schema_name: str, key: str) -> pd.DataFrame:
    """Read a TSV sample sheet, validate every row against its schema and check ``key`` is unique."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{schema_name} sheet not found", path=path, fix="set the path in config.yaml")
    table = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False, comment="#")
    validator = jsonschema.Draft202012Validator(load_schema(schema_name))
    required = validator.schema["required"]
    missing = [c for c in required if c not in table.columns]
    if missing:
        raise InputError(
            f"missing column(s) {missing}", path=path, fix=f"the header must be: {chr(9).join(required)}"
        )
    for row_number, row in enumerate(table.to_dict("records"), start=2):
        error = jsonschema.exceptions.best_match(validator.iter_errors(row))
        if error is not None:
            column = "/".join(map(str, error.absolute_path)) or "row"
            raise InputError(
                f"line {row_number}, column `{column}`: {error.message}",
                path=path,
                fix=f"see src/zeostem/schemas/{schema_name}.schema.yaml",
            )
    duplicated = table[key][table[key].duplicated()].tolist()
    if duplicated:
        raise InputError(f"duplicate {key} id(s) {duplicated}", path=path, fix=f"make every {key} unique")
    return table
