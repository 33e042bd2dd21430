"""The coding schema (a data file) and everything pure about coding values: reading the form,
validating against the schema and its conditional rules, pre-filling from extraction, and
what changed between two codings.

Coding values are plain JSON-able values keyed by field name:

    text, picklist, date   str ("" when empty; dates YYYY-MM-DD with 00 for unknown parts)
    multi_picklist         list[str], in the schema's order
    person_list            list[str], as typed (one person per line)
    boolean                bool
    integer                int | None
    date with estimated    also "<name>_estimated": bool
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from ecm.document import Document
from ecm.errors import EcmError, ExitCode

__all__ = [
    "DEFAULT_SCHEMA_PATH",
    "FIELD_TYPES",
    "CodingField",
    "Rule",
    "CodingSchema",
    "SchemaError",
    "load_schema",
    "parse_schema",
    "parse_form",
    "validate",
    "prefill",
    "changes",
    "is_empty",
    "normalise_date",
]

DEFAULT_SCHEMA_PATH = Path(__file__).parent / "schemas" / "default.toml"
FIELD_TYPES = ("text", "date", "picklist", "multi_picklist", "person_list", "boolean", "integer")
_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
MAX_PEOPLE = 200
MAX_TEXT = 2000


class SchemaError(EcmError):
    """The coding schema file is not usable; the message says where and why."""

    exit_code = ExitCode.config


@dataclass(frozen=True)
class CodingField:
    name: str
    label: str
    type: str
    required: bool = False
    choices: tuple[str, ...] = ()
    shortcuts: Mapping[str, str] = field(default_factory=dict)  # choice -> key
    estimated: bool = False  # dates: an "estimated" flag beside the value
    max_length: int = MAX_TEXT
    min: int | None = None
    max: int | None = None
    default: Any = None
    prefill: tuple[str, ...] = ()
    prefill_map: Mapping[str, str] = field(default_factory=dict)

    @property
    def is_list(self) -> bool:
        return self.type in ("multi_picklist", "person_list")

    def empty(self) -> Any:
        if self.is_list:
            return []
        return {"boolean": False, "integer": None}.get(self.type, "")


@dataclass(frozen=True)
class Rule:
    """``field`` is required when the value of ``when`` equals / does not equal / contains a value."""

    field: str
    when: str
    message: str
    equals: str | None = None
    not_equals: str | None = None
    contains: str | None = None

    def applies(self, values: Mapping[str, Any]) -> bool:
        value = values.get(self.when)
        if self.contains is not None:
            return isinstance(value, list) and self.contains in value
        if self.equals is not None:
            return value == self.equals
        return not is_empty(value) and value != self.not_equals


@dataclass(frozen=True)
class CodingSchema:
    name: str
    title: str
    fields: tuple[CodingField, ...]
    rules: tuple[Rule, ...] = ()

    def field(self, name: str) -> CodingField:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    @property
    def names(self) -> list[str]:
        """Every value key, flags included, in form order."""
        out = []
        for f in self.fields:
            out.append(f.name)
            if f.estimated:
                out.append(f"{f.name}_estimated")
        return out

    def empty(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for f in self.fields:
            values[f.name] = f.default if f.default is not None else f.empty()
            if f.estimated:
                values[f"{f.name}_estimated"] = False
        return values

    def required_now(self, values: Mapping[str, Any]) -> set[str]:
        """Fields required for these values (always-required ones and the rules that apply)."""
        return {f.name for f in self.fields if f.required} | {r.field for r in self.rules if r.applies(values)}


def is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value is False


# ----------------------------------------------------------------------------- the file


def load_schema(path: Path | str | None = None) -> CodingSchema:
    path = Path(path) if path else DEFAULT_SCHEMA_PATH
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise SchemaError(f"cannot read the coding schema {path}: {err}") from err
    except tomllib.TOMLDecodeError as err:
        raise SchemaError(f"coding schema {path} is not valid TOML: {err}") from err
    try:
        return parse_schema(data)
    except SchemaError as err:
        raise SchemaError(f"coding schema {path}: {err}") from err


def _strings(value: Any, what: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise SchemaError(f"{what} must be a list of non-empty strings")
    return tuple(value)


def parse_schema(data: Mapping[str, Any]) -> CodingSchema:
    """A schema from the parsed TOML (or JSON) data; ``SchemaError`` says what is wrong."""
    fields: list[CodingField] = []
    for i, raw in enumerate(data.get("fields") or []):
        name = raw.get("name", "")
        where = f"field {i + 1} ({name or 'no name'})"
        if not _NAME.fullmatch(str(name)):
            raise SchemaError(f"{where}: name must be lower-case letters, digits and '_'")
        kind = raw.get("type")
        if kind not in FIELD_TYPES:
            raise SchemaError(f"{where}: type {kind!r} is not one of {', '.join(FIELD_TYPES)}")
        unknown = set(raw) - {"name", "label", "type", "required", "choices", "shortcuts", "estimated", "max_length",
                              "min", "max", "default", "prefill", "prefill_map"}
        if unknown:
            raise SchemaError(f"{where}: unknown keys {', '.join(sorted(unknown))}")
        choices = _strings(raw["choices"], f"{where}: choices") if "choices" in raw else ()
        if kind in ("picklist", "multi_picklist") and not choices:
            raise SchemaError(f"{where}: a {kind} needs choices")
        if len(set(choices)) != len(choices):
            raise SchemaError(f"{where}: choices repeat")
        shortcuts = dict(raw.get("shortcuts") or {})
        for choice, key in shortcuts.items():
            if choice not in choices:
                raise SchemaError(f"{where}: shortcut for {choice!r}, which is not a choice")
            if not (isinstance(key, str) and len(key) == 1 and key.isalnum() and key not in "jk"):
                raise SchemaError(f"{where}: shortcut {key!r} must be one letter or digit (not j or k: they move "
                                  "between documents)")
        if len(set(shortcuts.values())) != len(shortcuts):
            raise SchemaError(f"{where}: two choices share a shortcut")
        default = raw.get("default")
        if default is not None and kind == "picklist" and default not in choices:
            raise SchemaError(f"{where}: default {default!r} is not a choice")
        fields.append(CodingField(
            name=name, label=str(raw.get("label") or name), type=kind, required=bool(raw.get("required", False)),
            choices=choices, shortcuts=shortcuts, estimated=bool(raw.get("estimated", False)) and kind == "date",
            max_length=int(raw.get("max_length", MAX_TEXT)), min=raw.get("min"), max=raw.get("max"), default=default,
            prefill=_strings(raw["prefill"], f"{where}: prefill") if "prefill" in raw else (),
            prefill_map=dict(raw.get("prefill_map") or {}),
        ))
    if not fields:
        raise SchemaError("no fields")
    names = [f.name for f in fields]
    if len(set(names)) != len(names):
        raise SchemaError("two fields share a name")
    rules = []
    for i, raw in enumerate(data.get("rules") or []):
        where = f"rule {i + 1}"
        if raw.get("field") not in names or raw.get("when") not in names:
            raise SchemaError(f"{where}: field and when must name fields of the schema")
        conditions = [k for k in ("equals", "not_equals", "contains") if k in raw]
        if len(conditions) != 1:
            raise SchemaError(f"{where}: give exactly one of equals, not_equals, contains")
        rules.append(Rule(field=raw["field"], when=raw["when"], equals=raw.get("equals"),
                          not_equals=raw.get("not_equals"), contains=raw.get("contains"),
                          message=str(raw.get("message") or f"{raw['field']} is required here")))
    return CodingSchema(name=str(data.get("name", "coding")), title=str(data.get("title", "Coding")),
                        fields=tuple(fields), rules=tuple(rules))


# ----------------------------------------------------------------------------- values


def normalise_date(text: str) -> str | None:
    """``YYYY-MM-DD`` with ``00`` for unknown parts (``1998``, ``1998-03`` are filled out), or
    None when ``text`` is not such a date."""
    m = _DATE.fullmatch(text.strip())
    if not m:
        return None
    year, month, day = m.group(1), m.group(2) or "00", m.group(3) or "00"
    if not 1000 <= int(year) <= 2999 or int(month) > 12 or (month == "00" and day != "00"):
        return None
    if day != "00":
        try:
            date(int(year), int(month), int(day))
        except ValueError:
            return None
    return f"{year}-{month}-{day}"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def parse_form(schema: CodingSchema, form: Mapping[str, Sequence[str]]) -> tuple[dict[str, Any], dict[str, str]]:
    """Typed values from a submitted form (every key maps to the list of its values) and the
    problems, by field name (empty when the coding is valid)."""
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}

    def first(key: str) -> str:
        got = form.get(key) or []
        return got[0] if got else ""

    for f in schema.fields:
        raw = first(f.name)
        if f.type == "text":
            values[f.name] = _one_line(raw)
        elif f.type == "date":
            text = raw.strip()
            values[f.name] = (normalise_date(text) or text) if text else ""
            if f.estimated:
                values[f"{f.name}_estimated"] = first(f"{f.name}_estimated") in ("1", "on", "true")
        elif f.type == "picklist":
            values[f.name] = raw.strip()
        elif f.type == "multi_picklist":
            chosen = set(form.get(f.name) or [])
            values[f.name] = [c for c in f.choices if c in chosen]
            if chosen - set(f.choices):
                errors[f.name] = f"{f.label}: choose from the list"
        elif f.type == "person_list":
            values[f.name] = [p for p in (_one_line(x) for x in re.split(r"[\n;]", raw)) if p]
        elif f.type == "boolean":
            values[f.name] = raw in ("1", "on", "true", "yes")
        elif f.type == "integer":
            text = raw.strip()
            if not text:
                values[f.name] = None
            elif re.fullmatch(r"-?\d{1,12}", text):
                values[f.name] = int(text)
            else:
                values[f.name] = text  # kept as typed, so the form shows it with the error
                errors[f.name] = f"{f.label}: write a whole number, not {text!r}"
    for name, message in validate(schema, values).items():
        errors.setdefault(name, message)
    return values, errors


def validate(schema: CodingSchema, values: Mapping[str, Any]) -> dict[str, str]:
    """Problems with ``values`` by field name: types, choices, lengths, ranges, required
    fields and the schema's conditional rules. Empty when the coding is valid."""
    errors: dict[str, str] = {}
    for f in schema.fields:
        value = values.get(f.name, f.empty())
        problem = _check(f, value)
        if problem:
            errors[f.name] = problem
    for f in schema.fields:
        if f.required and f.name not in errors and _blank(values.get(f.name)):
            errors[f.name] = f"{f.label} is required."
    for rule in schema.rules:
        if rule.field not in errors and rule.applies(values) and _blank(values.get(rule.field)):
            errors[rule.field] = rule.message
    return errors


def _blank(value: Any) -> bool:
    return value is None or value == "" or value == []


def _check(f: CodingField, value: Any) -> str | None:
    if f.type in ("text", "date", "picklist"):
        if not isinstance(value, str):
            return f"{f.label}: expected text"
        if not value:
            return None
        if f.type == "text" and len(value) > f.max_length:
            return f"{f.label}: at most {f.max_length} characters"
        if f.type == "date" and normalise_date(value) != value:
            return f"{f.label}: write YYYY-MM-DD, with 00 for an unknown month or day (1998-03-00), not {value!r}"
        if f.type == "picklist" and value not in f.choices:
            return f"{f.label}: choose one of {', '.join(f.choices)}"
    elif f.is_list:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return f"{f.label}: expected a list"
        if f.type == "multi_picklist" and any(v not in f.choices for v in value):
            return f"{f.label}: choose from the list"
        if len(value) > MAX_PEOPLE or any(len(v) > 300 for v in value):
            return f"{f.label}: too many or too long entries"
    elif f.type == "boolean":
        if not isinstance(value, bool):
            return f"{f.label}: expected yes or no"
    elif f.type == "integer":
        if value is None:
            return None
        if not isinstance(value, int) or isinstance(value, bool):
            return f"{f.label}: write a whole number"
        if f.min is not None and value < f.min:
            return f"{f.label}: at least {f.min}"
        if f.max is not None and value > f.max:
            return f"{f.label}: at most {f.max}"
    return None


# ----------------------------------------------------------------------------- pre-fill, changes


def prefill(schema: CodingSchema, doc: Document) -> dict[str, Any]:
    """A first coding from what extraction found (the coder checks it): each field takes the
    first of its ``prefill`` sources that has a value (lists gather all of them)."""
    values = schema.empty()
    for f in schema.fields:
        found: list[str] = []
        for source in f.prefill:
            if source == "pages":
                found.append(str(len(doc.pages))) if doc.pages else None
            elif source == "doc_type":
                if doc.doc_type is not None:
                    found.append(f.prefill_map.get(doc.doc_type.label, doc.doc_type.label))
            elif source in doc.fields:
                raw = doc.fields[source].value
                found.extend([str(v) for v in raw] if isinstance(raw, list) else [str(raw)])
        found = [_one_line(v) for v in found if v and v.strip()]
        if not found:
            continue
        if f.is_list:
            items = list(dict.fromkeys(found))
            values[f.name] = [c for c in f.choices if c in items] if f.type == "multi_picklist" else items
        elif f.type == "integer":
            values[f.name] = int(found[0]) if found[0].isdigit() else None
        elif f.type == "date":
            values[f.name] = normalise_date(found[0]) or ""
        elif f.type == "picklist":
            values[f.name] = found[0] if found[0] in f.choices else values[f.name]
        elif f.type == "text":
            values[f.name] = found[0][:f.max_length]
    return values


def changes(schema: CodingSchema, old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> dict[str, list[Any]]:
    """``{name: [old, new]}`` for every value that differs (``old`` None: from nothing)."""
    old = old or {}
    out = {}
    for name in schema.names:
        before, after = old.get(name), new.get(name)
        if before != after and not (_blank(before) and _blank(after)) and not (before in (None, False) and after is False):
            out[name] = [before, after]
    return out
