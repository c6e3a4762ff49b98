"""Cell values checked (or, with ``typecast``, converted) against the field's type."""

from __future__ import annotations

from typing import Any

from domains.airtable.emulator.errors import invalid

TEXT_TYPES = frozenset({"singleLineText", "multilineText", "email", "url", "phoneNumber",
                        "richText", "singleSelect", "date", "dateTime"})
NUMBER_TYPES = frozenset({"number", "currency", "percent", "duration", "rating"})
FIELD_TYPES = TEXT_TYPES | NUMBER_TYPES | {"checkbox", "multipleSelects"}


def is_empty(value: Any) -> bool:
    """Airtable leaves empty cells out of every answer."""
    return value is None or value is False or value == "" or value == []


def coerce(field_type: str, name: str, value: Any, *, typecast: bool) -> Any:
    if is_empty(value):
        return None
    if field_type in NUMBER_TYPES:
        return _number(name, value, typecast=typecast)
    if field_type == "checkbox":
        return _checkbox(name, value, typecast=typecast)
    if field_type == "multipleSelects":
        return _choices(name, value, typecast=typecast)
    return _text(name, value, typecast=typecast)


def _refuse(name: str, value: Any) -> Exception:
    return invalid("INVALID_VALUE_FOR_COLUMN",
                   f'Field "{name}" cannot accept the provided value {value!r}')


def _number(name: str, value: Any, *, typecast: bool) -> int | float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    if typecast and isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            raise _refuse(name, value) from None
        return int(number) if number.is_integer() else number
    raise _refuse(name, value)


def _checkbox(name: str, value: Any, *, typecast: bool) -> bool:
    if isinstance(value, bool):
        return value
    if typecast:
        return str(value).strip().lower() not in {"", "0", "false", "no", "off"}
    raise _refuse(name, value)


def _choices(name: str, value: Any, *, typecast: bool) -> list[str]:
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return value
    if typecast and isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    raise _refuse(name, value)


def _text(name: str, value: Any, *, typecast: bool) -> str:
    if isinstance(value, str):
        return value
    if typecast and isinstance(value, int | float | bool):
        return str(value)
    raise _refuse(name, value)
