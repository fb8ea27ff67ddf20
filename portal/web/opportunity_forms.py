"""The posting form: one form class, with the fieldsets each kind needs."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    widgets,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from portal.i18n import _l
from portal.models.vocab import STUDY_LEVELS
from portal.web.formtools import LocalDecimalField, choices
from portal.web.labels import CONTENT_LANGUAGE_LABELS, STUDY_LEVEL_LABELS


class MultiCheckboxField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


COMMON = ("title", "description", "language", "levels", "tags", "places", "deadline",
          "period_start", "period_end", "municipality", "location")
BY_KIND = {
    "thesis_task": ("external_cosupervision", "confidentiality_terms"),
    "placement": ("extent_weeks", "extent_hours", "supervised_on_site", "credit_bearing", "ects",
                  "paid"),
    "industry_case": ("material", "course_usage", "suitable_courses"),
    "eit_village": ("semester", "village_code", "theme"),
}
UNIT_ONLY = ("partner_sought", "partner_role")


class OpportunityForm(FlaskForm):
    owner = SelectField(_l("Posted by"), validators=[DataRequired(_l("Choose who posts it."))])
    title = StringField(_l("Title"), validators=[DataRequired(_l("Enter a title.")), Length(max=300)])
    description = TextAreaField(_l("Description"), validators=[Length(max=20000)])
    language = SelectField(_l("Language of the text"),
                           choices=choices(CONTENT_LANGUAGE_LABELS.items()))
    levels = MultiCheckboxField(_l("Study levels"),
                                choices=choices((lv, STUDY_LEVEL_LABELS[lv]) for lv in STUDY_LEVELS))
    tags = StringField(_l("Tags"), validators=[Length(max=1000)])
    places = IntegerField(_l("Places (students or teams)"), default=1,
                          validators=[Optional(), NumberRange(min=1, max=1000)])
    deadline = DateField(_l("Application deadline"), validators=[Optional()])
    period_start = DateField(_l("Period starts"), validators=[Optional()])
    period_end = DateField(_l("Period ends"), validators=[Optional()])
    municipality = StringField(_l("Municipality"), validators=[Length(max=120)])
    location = StringField(_l("Place of work"), validators=[Length(max=200)])
    # thesis_task
    external_cosupervision = BooleanField(_l("We offer an external co-supervisor"))
    confidentiality_terms = TextAreaField(_l("Confidentiality and IPR terms"),
                                          validators=[Length(max=5000)])
    # placement
    extent_weeks = IntegerField(_l("Extent in weeks"), validators=[Optional(), NumberRange(min=1)])
    extent_hours = IntegerField(_l("Extent in hours"), validators=[Optional(), NumberRange(min=1)])
    supervised_on_site = BooleanField(_l("Supervision on site"))
    credit_bearing = BooleanField(_l("Gives credits (ECTS)"))
    ects = LocalDecimalField(_l("Credits (ECTS)"), places=1, validators=[Optional()])
    paid = BooleanField(_l("Paid"))
    # industry_case
    material = TextAreaField(_l("Case material"), validators=[Length(max=10000)])
    course_usage = TextAreaField(_l("How a class uses the case"), validators=[Length(max=5000)])
    suitable_courses = StringField(_l("Suitable courses (course codes)"), validators=[Length(max=500)])
    # eit_village
    semester = StringField(_l("Semester"), validators=[Length(max=5)])
    village_code = StringField(_l("Village code"), validators=[Length(max=20)])
    theme = StringField(_l("Village theme"), validators=[Length(max=300)])
    # unit-owned: a group topic looking for a partner
    partner_sought = BooleanField(_l("We are looking for an external partner"))
    partner_role = TextAreaField(_l("What the partner would do"), validators=[Length(max=5000)])


HINTS = {
    "tags": _l("Separate with commas, e.g. machine learning, energy, health."),
    "semester": _l("Like 2026H (autumn) or 2027V (spring)."),
    "suitable_courses": _l("Separate with commas, e.g. TDT4100, TMA4100."),
    "places": _l("An EiT village takes 25–36 students."),
}


def field_names(kind: str, unit_owned: bool) -> tuple[str, ...]:
    return COMMON + BY_KIND[kind] + (UNIT_ONLY if unit_owned else ())


def form_to_fields(form: OpportunityForm, kind: str, unit_owned: bool, courses_by_code) -> dict:
    """The service's keyword arguments from the submitted form."""
    out: dict = {}
    for name in field_names(kind, unit_owned):
        value = form[name].data
        if name == "tags":
            value = [t for t in (value or "").split(",") if t.strip()]
        elif name == "suitable_courses":
            value = courses_by_code([c.strip() for c in (value or "").split(",") if c.strip()])
        elif name == "places" and value is None:
            continue
        elif name == "semester":
            value = (value or "").strip().upper() or None
        out[name] = value
    return out


def fill_form(form: OpportunityForm, opp) -> None:
    for name in field_names(opp.kind, opp.owner_unit_id is not None):
        if name == "levels":
            form.levels.data = opp.level_names
        elif name == "tags":
            form.tags.data = ", ".join(opp.tag_names)
        elif name == "suitable_courses":
            form.suitable_courses.data = ", ".join(oc.course.code for oc in opp.suitable_courses)
        else:
            form[name].data = getattr(opp, name)
