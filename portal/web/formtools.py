"""Glue between service errors and WTForms forms."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DecimalField

from portal.services.errors import ServiceError, ValidationFailed


def apply_errors(form: FlaskForm, exc: ServiceError) -> None:
    """Show a service's validation messages beside the fields they concern."""
    errors = exc.errors if isinstance(exc, ValidationFailed) else {exc.field or "": [exc.message]}
    for name, messages in errors.items():
        target = form._fields.get(name) if name else None
        if target is not None:
            target.errors = [*target.errors, *messages]
        else:
            form.form_errors.extend(messages)


def choices(pairs) -> list:
    """WTForms choices from (value, label) pairs (tuples are deprecated in WTForms 3.3)."""
    from wtforms.fields import SelectChoice

    return [SelectChoice(value, label) for value, label in pairs]


class LocalDecimalField(DecimalField):
    """Accepts a decimal comma as well (Norwegian users type 7,5)."""

    def process_formdata(self, valuelist):
        if valuelist:
            valuelist = [v.replace(",", ".").strip() if isinstance(v, str) else v
                         for v in valuelist]
        super().process_formdata(valuelist)
