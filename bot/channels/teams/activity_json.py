"""Activities to and from JSON in one walk, rather than msrest's several.

Every reply, card and proactive message goes out through botbuilder's connector client, whose
msrest serializer turns the Activity into JSON by first deserializing it again (a walk of the
whole model), then validating it (a second), then serializing it (a third), looking up each of
an Activity's forty-odd attributes' types as it goes and copying every node of an Adaptive Card
one call at a time. Profiled under load, that was 30% of the event loop's time in a Teams turn:
more than the dialog, the database and the HTTP request together.

`FastBodies` is that serializer with one change: an Activity whose parts are all what this bot
builds (msrest models, and plain JSON values where the schema says "object") is written in one
walk that gives the same JSON, and anything else (a dict where a model is expected, an object
msrest would turn into a string) goes to msrest as before. The schema has no validation rules
(no required or read-only attributes, no constraints), so skipping the validating walk changes
nothing. tests/channels/teams/test_activity_json.py holds the two to the same output over the
activities the bot sends and generated ones.

The other way, `activity_from_json` reads an arriving activity's JSON into the same Activity
msrest's `Activity.deserialize` would make (the same models, values and additional properties),
in one walk over what Teams sends: strings, numbers, booleans, dates, lists and objects where
the schema expects them. Anything else (a number where the schema has a string, a date that is
not one, a list where it has an object) is read by msrest, so its answers and its errors stay
exactly msrest's.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

from botbuilder.schema import Activity
from botframework.connector.aio import ConnectorClient
from msrest.serialization import Deserializer, Model, Serializer

__all__ = ["FastBodies", "activity_from_json", "as_json", "use_fast_bodies"]


class _Unusual(Exception):
    """Something msrest would treat in its own way: it writes this activity instead."""


_PLAIN_LEAVES = (str, int, float, bool)


def _plain_object(value: Any) -> Any:
    """A value of schema type "object": JSON made of dicts, lists, strings, numbers, booleans
    and None is kept as it is (msrest would copy it node by node to the same values)."""
    kind = type(value)
    if value is None or kind in _PLAIN_LEAVES:
        return value
    if kind is dict:
        for key, item in value.items():
            if type(key) is not str:
                raise _Unusual(key)
            _plain_object(item)
        return value
    if kind is list:
        for item in value:
            _plain_object(item)
        return value
    raise _Unusual(kind)


def _basic(value: Any, data_type: str) -> Any:
    if data_type == "str":
        if isinstance(value, Enum):
            return value.value
        return value if type(value) is str else str(value)
    if data_type == "bool":
        return bool(value)
    if data_type == "int":
        return int(value)
    if data_type == "float":
        return float(value)
    raise _Unusual(data_type)


def _typed(value: Any, data_type: str, models: dict[str, type]) -> Any:
    if data_type in ("str", "bool", "int", "float"):
        return _basic(value, data_type)
    if data_type == "object":
        return _plain_object(value)
    if data_type == "iso-8601":
        return Serializer.serialize_iso(value)  # type: ignore[no-untyped-call]
    if data_type == "bytearray":
        return Serializer.serialize_bytearray(value)  # type: ignore[no-untyped-call]
    if data_type.startswith("[") and data_type.endswith("]"):
        if isinstance(value, str):
            raise _Unusual(value)  # msrest refuses a string as a list
        inner = data_type[1:-1]
        return [None if item is None else _typed(item, inner, models) for item in value]
    if data_type.startswith("{") and data_type.endswith("}"):
        inner = data_type[1:-1]
        return {
            _basic(key, "str"): None if item is None else _typed(item, inner, models)
            for key, item in value.items()
        }
    model = models.get(data_type)
    if model is None or isinstance(value, Enum) or not isinstance(value, Model):
        raise _Unusual(data_type)  # an enum type, or a dict msrest would make a model of
    return _model(value, models)


def _model(value: Model, models: dict[str, type]) -> dict[str, Any]:
    written: dict[str, Any] = {}
    for attribute, description in value._attribute_map.items():
        if attribute == "additional_properties" or value._validation.get(attribute):
            raise _Unusual(attribute)
        item = getattr(value, attribute, None)
        if item is None:
            continue  # msrest leaves an attribute without a value out
        key = description["key"]
        if "." in key:
            raise _Unusual(key)  # a flattened key, which msrest would nest
        written[key] = _typed(item, description["type"], models)
    return written


# Each model class's schema (the classes of its module), which msrest gathers on every call.
_SCHEMAS: dict[type, dict[str, type]] = {}


def _schema_of(model: type[Model]) -> dict[str, type]:
    schema = _SCHEMAS.get(model)
    if schema is None:
        schema = _SCHEMAS[model] = model._infer_class_models()  # type: ignore[no-untyped-call]
    return schema


def as_json(model: Model) -> Any:
    """`model.serialize()` in one walk, for a model this bot builds (see above); msrest's own
    otherwise."""
    try:
        return _model(model, _schema_of(type(model)))
    except _Unusual:
        return model.serialize()  # type: ignore[no-untyped-call]


class FastBodies(Serializer):
    """msrest's serializer, writing an Activity body in one walk when it can (see above)."""

    def body(self, data: Any, data_type: str, **kwargs: Any) -> Any:
        if data_type == "Activity" and isinstance(data, Model) and not kwargs:
            try:
                return _model(data, self.dependencies)
            except _Unusual:
                pass
        return super().body(data, data_type, **kwargs)  # type: ignore[no-untyped-call]


def use_fast_bodies(client: ConnectorClient) -> ConnectorClient:
    """Give the client's conversation operations (replies, proactive messages, card updates)
    the one-walk serializer; everything else about the client is as botbuilder made it."""
    operations = client.conversations
    current = operations._serialize
    if not isinstance(current, FastBodies):
        fast = FastBodies(current.dependencies)  # type: ignore[no-untyped-call]
        fast.client_side_validation = current.client_side_validation
        fast.key_transformer = current.key_transformer
        operations._serialize = fast
    return client


# -- arriving ------------------------------------------------------------------------------------


def _json_copy(value: Any) -> Any:
    """A value of schema type "object", copied as msrest copies it."""
    kind = type(value)
    if value is None or kind in _PLAIN_LEAVES:
        return value
    if kind is dict:
        return {key: _json_copy(item) for key, item in value.items()}
    if kind is list:
        return [_json_copy(item) for item in value]
    raise _Unusual(kind)


# Schema types whose JSON is used as it is, when it is of exactly this type.
_AS_SENT: dict[str, type] = {"str": str, "bool": bool, "int": int}


def _read_time(value: Any) -> datetime:
    if type(value) is datetime:
        return value
    if type(value) is not str:
        raise _Unusual(type(value))
    read: datetime = Deserializer.deserialize_iso(value)  # type: ignore[no-untyped-call]
    return read


def _read(value: Any, data_type: str, models: dict[str, type]) -> Any:
    kind = type(value)
    exact = _AS_SENT.get(data_type)
    if exact is not None:
        if kind is not exact:
            raise _Unusual(kind)
        return value
    if data_type == "float" and kind in (int, float):
        return float(value)
    if data_type == "iso-8601":
        return _read_time(value)
    if data_type == "object":
        return _json_copy(value)
    inner = data_type[1:-1]
    if data_type[:1] + data_type[-1:] == "[]" and kind is list:
        return [None if item is None else _read(item, inner, models) for item in value]
    if data_type[:1] + data_type[-1:] == "{}" and kind is dict:
        return {
            k: None if item is None else _read(item, inner, models) for k, item in value.items()
        }
    model = models.get(data_type)
    if model is None or not issubclass(model, Model):
        raise _Unusual(data_type)
    return _read_model(model, value, models)


def _read_model(model: type[Model], data: Any, models: dict[str, type]) -> Model:
    if type(data) is not dict or getattr(model, "_subtype_map", None):
        raise _Unusual(model)
    values: dict[str, Any] = {}
    known: set[str] = set()
    for attribute, description in model._attribute_map.items():
        key = description["key"]
        if attribute == "additional_properties" or "." in key or model._validation.get(attribute):
            raise _Unusual(attribute)
        known.add(key)
        raw = data.get(key)
        values[attribute] = None if raw is None else _read(raw, description["type"], models)
    made = model(**values)
    extra = {key: item for key, item in data.items() if key not in known}
    if extra:
        made.additional_properties = extra
    return made


def activity_from_json(data: Any) -> Activity:
    """`Activity().deserialize(data)`, in one walk when the JSON is as Teams sends it (see the
    module's docstring); msrest's own reading, and errors, otherwise."""
    try:
        made = _read_model(Activity, data, _schema_of(Activity))
    except Exception:
        return Activity().deserialize(data)
    assert isinstance(made, Activity)
    return made
