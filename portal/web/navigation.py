"""The main navigation for the logged-in user, by role."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, url_for
from flask_login import current_user

from portal.i18n import _l


@dataclass
class NavItem:
    url: str
    label: str


# (endpoint, label, roles that see it; None = every logged-in user)
_ITEMS = [
    ("search.index", _l("Search"), None),
    ("opportunities.index", _l("Opportunities"), None),
    ("directory.partners", _l("Partners"), None),
    ("directory.groups", _l("Academic groups"), None),
    ("applications.mine", _l("My applications"), ("student", "staff", "partner")),
    ("opportunities.mine", _l("Our opportunities"), ("partner", "staff")),
    ("collaborations.mine", _l("My collaborations"), None),
    ("collaborations.portfolio", _l("Portfolio"), ("staff", "course_leader")),
    ("accounts.profile", _l("My profile"), None),
    ("organisations.mine", _l("My organisations"), ("partner",)),
    ("organisations.new", _l("Register an organisation"), None),
    ("organisations.verification_queue", _l("Verification queue"), ("coordinator", "admin")),
    ("search.saved", _l("Saved searches"), None),
    ("search.terminology_page", _l("Terminology"), ("coordinator", "admin")),
    ("indicators.dashboard", _l("Indicators"), ("coordinator", "admin", "staff")),
    ("admin.users", _l("Users and roles"), ("admin",)),
    ("admin.jobs", _l("Jobs"), ("admin",)),
]


def nav_items() -> list[NavItem]:
    if not current_user.is_authenticated:
        return []
    items = []
    if "notifications.index" in current_app.view_functions:
        from portal.services.notifications import unread_count
        from portal.web.dbsession import get_db

        unread = unread_count(get_db(), current_user)
        label = _l("Notifications (%(n)d new)", n=unread) if unread else _l("Notifications")
        items.append(NavItem(url_for("notifications.index"), str(label)))
    for endpoint, label, roles in _ITEMS:
        if endpoint not in current_app.view_functions:
            continue
        if roles is None or current_user.has_role(*roles):
            items.append(NavItem(url_for(endpoint), str(label)))
    return items
