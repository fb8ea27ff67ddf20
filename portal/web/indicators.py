"""The coordinator dashboard of the A2 indicators: numbers, charts, trends, exports
and drill-down (portal.services.indicator_dashboard decides who sees what)."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, render_template, request, url_for
from flask_babel import get_locale
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField
from wtforms.validators import InputRequired, ValidationError

from portal.i18n import _l
from portal.services import indicator_dashboard as dash
from portal.services import indicator_exports
from portal.services import indicators as engine
from portal.services.errors import ValidationFailed
from portal.web.dbsession import get_db
from portal.web.formtools import apply_errors, choices
from portal.web.labels import label

bp = Blueprint("indicators", __name__)

OSLO = ZoneInfo("Europe/Oslo")

BREAKDOWN_LABELS = {
    "partner_sector": _l("Partner sector"), "partner_size": _l("Partner size"),
    "nace": _l("Industry (NACE)"), "partner_country": _l("Partner country"),
    "faculty": _l("Faculty"), "department": _l("Department"), "unit": _l("Unit"),
    "course": _l("Course"), "programme": _l("Study programme"), "level": _l("Study level"),
    "form": _l("Collaboration form"), "year": _l("Calendar year"),
    "academic_year": _l("Academic year"), "semester": _l("Semester"),
}
# breakdown key → label vocabulary of its values (portal.web.labels)
VALUE_LABELS = {"partner_sector": "sector", "partner_size": "size_class", "level": "study_level",
                "form": "form"}

INDICATOR_NAMES = {
    "A2-1": _l("Theses with an external partner"),
    "A2-2": _l("Students in practice placements"),
    "A2-3": _l("Course-integrated partner projects"),
    "A2-4": _l("Recorded activities by form"),
    "A2-5": _l("Mobility and shared positions"),
    "A2-6": _l("Partners: active, new, recurring"),
    "A2-7": _l("Matching funnel"),
    "A2-8": _l("Documentation rate"),
    "A2-9": _l("Relationship breadth"),
    "A2-10": _l("Outcomes"),
}
MEASURE_LABELS = {
    "theses": _l("Theses"), "placements": _l("Placements"), "students": _l("Students"),
    "credit_bearing_students": _l("Students in credit-bearing placements"),
    "ects": _l("ECTS credits"), "course_instances": _l("Course instances"),
    "teams": _l("Teams"), "students_reached": _l("Students reached"),
    "eit_villages": _l("EiT villages"), "activities": _l("Activities"),
    "participants": _l("Participants"), "headcount": _l("Headcount"), "fte": _l("FTE"),
    "person_months": _l("Person-months"), "active": _l("Active partners"),
    "new": _l("New partners"), "door_opened": _l("New through a portal posting"),
    "recurring": _l("Recurring partners"), "share_new": _l("Share new"),
    "share_recurring": _l("Share recurring"), "published": _l("Opportunities published"),
    "applications": _l("Applications"), "matches": _l("Matches"),
    "completed_with_result": _l("Completed with a result"),
    "places_offered": _l("Places offered"), "places_filled": _l("Places filled"),
    "median_days_to_match": _l("Median days to match"), "match_rate": _l("Match rate"),
    "fill_rate": _l("Fill rate"), "completed": _l("Completed collaborations"),
    "with_result": _l("With a result"), "with_impact_story": _l("With an impact story"),
    "share_with_result": _l("Share with a result"),
    "share_with_impact_story": _l("Share with an impact story"),
    "partners": _l("Active partners"),
    "with_two_staff_contacts": _l("With two or more staff contacts"),
    "share_with_two_staff_contacts": _l("Share with two or more staff contacts"),
    "student_recruited": _l("Students recruited"), "follow_up_project": _l("Follow-up projects"),
    "publication": _l("Publications"), "tto_disclosure": _l("Ideas disclosed to the TTO"),
}
EXPORT_FORMATS = (("csv", "CSV"), ("xlsx", "XLSX"), ("json", "JSON"))

# bar chart geometry (SVG user units)
CHART_LABEL_W, CHART_BAR_W, CHART_VALUE_W, CHART_ROW_H = 230, 360, 80, 26


def _is_ratio(measure: str) -> bool:
    return measure.startswith("share_") or measure.endswith("_rate")


def fmt(value, measure: str = "") -> str:
    if value is None:
        return "–"
    if _is_ratio(measure):
        return f"{value * 100:.1f} %"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def dim_label(key: str, value) -> str:
    if value is None or value == "":
        return str(_l("(not recorded)"))
    return label(VALUE_LABELS[key], value) if key in VALUE_LABELS else str(value)


def measure_label(measure: str) -> str:
    return str(MEASURE_LABELS.get(measure, measure))


# -------------------------------------------------------------------- form
class DashboardForm(FlaskForm):
    class Meta:
        csrf = False  # a GET form: it changes nothing

    date_from = DateField(_l("From"), validators=[InputRequired()])
    date_to = DateField(_l("To (inclusive)"), validators=[InputRequired()])
    unit = SelectField(_l("Unit"), validate_choice=False)  # access is the service's decision
    by = SelectField(_l("Break down by"), validate_choice=False)

    def validate_date_to(self, field):
        if self.date_from.data and field.data and field.data < self.date_from.data:
            raise ValidationError(_l("The period must end on or after the day it starts."))

    def validate_by(self, field):
        if field.data and field.data not in engine.BREAKDOWNS:
            raise ValidationError(_l("Choose a breakdown from the list."))


_ENGINE_FIELDS = {"from": "date_from", "to": "date_to", "unit": "unit", "by": "by",
                  "as_of": "date_to"}


def _apply(form, exc: ValidationFailed) -> None:
    apply_errors(form, ValidationFailed({_ENGINE_FIELDS.get(k, k): v
                                         for k, v in exc.errors.items()}))


def _form(units) -> DashboardForm:
    today = datetime.now(OSLO).date()
    start, end = dash.current_academic_year(today)
    args = request.args.to_dict()
    args.setdefault("date_from", start.isoformat())
    args.setdefault("date_to", end.isoformat())
    if not dash.sees_institution(current_user) and units:
        args.setdefault("unit", units[0].code)
    form = DashboardForm(formdata=_Args(args))
    locale = str(get_locale() or "nb")
    unit_choices = [] if not dash.sees_institution(current_user) else [
        ("", _l("The whole institution"))]
    unit_choices += [(u.code, f"{u.code} – {u.name(locale)}") for u in units]
    form.unit.choices = choices(unit_choices)
    form.by.choices = choices([("", _l("No breakdown (totals)")),
                               *BREAKDOWN_LABELS.items()])
    return form


class _Args(dict):
    """A dict that WTForms reads as form data (``getlist``)."""

    def getlist(self, key):
        return [self[key]] if key in self else []


def _query(form, **extra) -> dict:
    q = {"date_from": form.date_from.data.isoformat(), "date_to": form.date_to.data.isoformat()}
    if form.unit.data:
        q["unit"] = form.unit.data
    if form.by.data:
        q["by"] = form.by.data
    q.update({k: v for k, v in extra.items() if v is not None})
    return q


# ------------------------------------------------------------------- views
@bp.get("/coordinator/indicators")
@login_required
def dashboard():
    db = get_db()
    units = dash.require_dashboard(db, current_user)
    form = _form(units)
    data = None
    if form.validate():
        try:
            data = dash.dashboard(db, current_user, date_from=form.date_from.data,
                                  date_to=form.date_to.data, unit=form.unit.data,
                                  by=form.by.data or None)
        except ValidationFailed as exc:
            _apply(form, exc)
    view = _view(form, data) if data is not None else None
    return render_template("indicators/dashboard.html", form=form, view=view,
                           fmt=fmt, measure_label=measure_label, dim_label=dim_label,
                           breakdown_labels=BREAKDOWN_LABELS,
                           indicator_names=INDICATOR_NAMES), (200 if data is not None else 400)


def _view(form, data: dash.Dashboard) -> dict:
    by = data.request.by
    last = data.request.last_event_id
    exports = [{"format": f, "label": lab,
                "summary": url_for("indicators.export", **_query(form, format=f, as_of=last)),
                "detailed": url_for("indicators.export",
                                    **_query(form, format=f, as_of=last, detailed=1))}
               for f, lab in EXPORT_FORMATS]
    blocks = []
    for ind in data.result["indicators"]:
        measures = list(dict.fromkeys(r["measure"] for r in ind["rows"]))
        name = INDICATOR_NAMES.get(ind["id"], ind["name"])
        if by:
            table = _pivot(ind["rows"], by, measures)
            head = measures[0]
            bars = [(" · ".join(dim_label(k, v) for k, v in zip(by, key, strict=True)),
                     vals.get(head)) for key, vals in table]
            chart_desc = _l("%(measure)s by %(by)s", measure=measure_label(head),
                            by=str(BREAKDOWN_LABELS[by[0]]))
        else:
            table = [((), {r["measure"]: r["value"] for r in ind["rows"]})]
            bars = [(measure_label(m), table[0][1][m]) for m in measures
                    if not _is_ratio(m) and m != "median_days_to_match"]
            chart_desc = _l("The indicator's counts for the period")
        links = {}
        for key, vals in table:
            for m in measures:
                if (ind["id"], m) in dash.DRILLABLE and vals.get(m):
                    dims = {k: ("" if v is None else v) for k, v in zip(by, key, strict=True)}
                    links[(key, m)] = url_for("indicators.drill", **_query(
                        form, indicator=ind["id"], measure=m, as_of=last),
                        **{f"dim_{k}": v for k, v in dims.items()})
        blocks.append({"id": ind["id"], "name": name, "unit": ind["unit"],
                       "measures": measures, "table": table, "links": links,
                       "chart": bar_chart(f"chart-{ind['id']}", f"{ind['id']} {name}",
                                          str(chart_desc), bars)})
    trend = [{"name": f"{s['indicator']} {measure_label(s['measure'])}",
              "measure": s["measure"], "values": s["values"],
              "chart": bar_chart(f"trend-{s['indicator']}",
                                 f"{s['indicator']} {measure_label(s['measure'])}",
                                 str(_l("Per academic year, the last three years")),
                                 list(zip(data.trend_years, s["values"], strict=True)))}
             for s in data.trend]
    return {"meta": data.result["meta"], "by": by, "blocks": blocks, "exports": exports,
            "trend_years": data.trend_years, "trend": trend}


def _pivot(rows, by, measures) -> list[tuple[tuple, dict]]:
    table: dict[tuple, dict] = {}
    for r in rows:
        table.setdefault(tuple(r.get(k) for k in by), {})[r["measure"]] = r["value"]
    return list(table.items())


def bar_chart(chart_id: str, title: str, desc: str, bars) -> dict:
    """Geometry of a horizontal bar chart, drawn by the template as SVG."""
    numbers = [v for _, v in bars if isinstance(v, (int, float))]
    top = max(numbers, default=0) or 1
    rows = []
    for i, (text, value) in enumerate(bars):
        v = value if isinstance(value, (int, float)) else 0
        rows.append({"label": text if len(text) <= 34 else text[:33] + "…", "value": fmt(value), "y": i * CHART_ROW_H,
                     "width": round(CHART_BAR_W * v / top, 1) if v > 0 else 0,
                     "text_x": CHART_LABEL_W + (round(CHART_BAR_W * v / top, 1) if v > 0 else 0) + 6})
    return {"id": chart_id, "title": title, "desc": desc, "rows": rows,
            "label_w": CHART_LABEL_W, "row_h": CHART_ROW_H, "bar_h": CHART_ROW_H - 8,
            "width": CHART_LABEL_W + CHART_BAR_W + CHART_VALUE_W,
            "height": max(len(rows), 1) * CHART_ROW_H}


@bp.get("/coordinator/indicators/export")
@login_required
def export():
    db = get_db()
    units = dash.require_dashboard(db, current_user)
    form = _form(units)
    fmt_ = request.args.get("format", "csv")
    detailed = request.args.get("detailed") in ("1", "y", "true")
    as_of = request.args.get("as_of") or None
    if fmt_ not in indicator_exports.FORMATS:
        form.form_errors.append(_l("Choose CSV, XLSX or JSON."))
    elif form.validate():
        try:
            result, content = dash.export(db, current_user, date_from=form.date_from.data,
                                          date_to=form.date_to.data, unit=form.unit.data,
                                          by=form.by.data or None, as_of=as_of, fmt=fmt_,
                                          detailed=detailed)
        except ValidationFailed as exc:
            _apply(form, exc)
        else:
            meta = result["meta"]
            name = (f"indicators-{meta['period']['from']}-{meta['period']['to']}"
                    f"{'-detailed' if detailed else ''}-e{meta['last_event_id']}.{fmt_}")
            mimetypes = {"csv": "text/csv; charset=utf-8", "json": "application/json",
                         "xlsx": "application/vnd.openxmlformats-officedocument."
                                 "spreadsheetml.sheet"}
            return Response(content, mimetype=mimetypes[fmt_], headers={
                "Content-Disposition": f'attachment; filename="{name}"'})
    return render_template("indicators/dashboard.html", form=form, view=None, fmt=fmt,
                           measure_label=measure_label, dim_label=dim_label,
                           breakdown_labels=BREAKDOWN_LABELS,
                           indicator_names=INDICATOR_NAMES), 400


@bp.get("/coordinator/indicators/drill")
@login_required
def drill():
    db = get_db()
    units = dash.require_dashboard(db, current_user)
    form = _form(units)
    dims = {k[4:]: v for k, v in request.args.items() if k.startswith("dim_")}
    data = None
    if form.validate():
        try:
            data = dash.drilldown(db, current_user, date_from=form.date_from.data,
                                  date_to=form.date_to.data, unit=form.unit.data,
                                  indicator=request.args.get("indicator", ""),
                                  measure=request.args.get("measure", ""), dims=dims,
                                  as_of=request.args.get("as_of") or None)
        except ValidationFailed as exc:
            _apply(form, exc)
    if data is None:
        return render_template("indicators/dashboard.html", form=form, view=None, fmt=fmt,
                               measure_label=measure_label, dim_label=dim_label,
                               breakdown_labels=BREAKDOWN_LABELS,
                               indicator_names=INDICATOR_NAMES), 400
    back = url_for("indicators.dashboard") + "?" + urlencode(_query(form))
    return render_template("indicators/drill.html", data=data, back=back,
                           name=INDICATOR_NAMES.get(data.indicator["id"], data.indicator["name"]),
                           measure_label=measure_label, dim_label=dim_label,
                           breakdown_labels=BREAKDOWN_LABELS,
                           dim_keys=[k for k in engine.DETAIL_COLUMNS[9:]])
