"""No code reaches a person's screen (issue #17): every page of the workspace, opened with
the demo data by each role, in Chinese and in English, shows words, never a snake_case
value (at_risk, parent_satisfaction...) nor a customer-type code (develop.maintenance).

The walk takes every named URL of the staff pages: the ones without arguments as they
are, the ones with an id with the first row of the demo that fits (a student, a task, a
complaint...). Pages a role may not open (403/404) or that redirect are skipped for that
role; every page must be opened by at least one role, so a new page is walked too.
"""
from __future__ import annotations

import re
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import translation

CODE = re.compile(r"\b[a-z]+(?:_[a-z]+)+\b|\b(?:core|maintain|develop|ordinary)\."
                  r"(?:expected|maintenance|recovery)\b")
SKIP_NAMESPACES = {"admin", "api", "djdt"}
# Downloads, feeds, form posts and machine endpoints: not pages a person reads as HTML.
SKIP_WORDS = ("export", "download", "template", "feed", "ics", "events", "json", "logout",
              "healthz", "set_language", "schema", "docs", "redoc", "move", "drag",
              "receipt_pdf", "enquiry", "poll", "progress", "live")
ROLES = ["headoffice", "manager1", "counselor1", "frontdesk1", "teacher1"]


def visible_text(html: str) -> str:
    html = re.sub(r"<(script|style|template)\b.*?</\1>", " ", html, flags=re.S | re.I)
    html = re.sub(r"<!--.*?-->", " ", html, flags=re.S)
    html = re.sub(r"<[^>]+>", " ", html)
    return re.sub(r"\s+", " ", html)


def named_patterns(resolver: URLResolver, prefix: str = "") -> list[tuple[str, URLPattern]]:
    out = []
    for p in resolver.url_patterns:
        if isinstance(p, URLResolver):
            ns = p.namespace
            if ns in SKIP_NAMESPACES:
                continue
            out += named_patterns(p, f"{prefix}{ns}:" if ns else prefix)
        elif p.name:
            out.append((prefix + p.name, p))
    return out


def first_ids() -> dict[str, int]:
    """An id for each kind of row a page can be about, from the demo."""
    from lifecycle.models import RetentionTask
    from students.models import ClassSession, Complaint, Contract, Student

    ids = {}
    for key, qs in (("student", Student.objects.filter(period="at_risk")),
                    ("task", RetentionTask.objects.all()),
                    ("complaint", Complaint.objects.all()),
                    ("contract", Contract.objects.all()),
                    ("session", ClassSession.objects.all())):
        pk = qs.order_by("pk").values_list("pk", flat=True).first()
        if pk is not None:
            ids[key] = pk
    return ids


def urls_to_walk() -> list[tuple[str, tuple]]:
    """(url name, args) of each page; reversed later in each language (its prefix)."""
    ids = first_ids()
    urls = set()
    for name, pattern in named_patterns(get_resolver()):
        if any(w in name for w in SKIP_WORDS):
            continue
        converters = pattern.pattern.converters
        if not converters:
            try:
                reverse(name)
                urls.add((name, ()))
            except Exception:  # a route needing kwargs we cannot guess
                continue
        elif list(converters) in (["pk"], ["student_id"], ["student"]):
            kind = next((k for k in ids if k in name), "student")
            if kind not in ids:
                continue
            try:
                reverse(name, args=[ids[kind]])
                urls.add((name, (ids[kind],)))
            except Exception:  # the id does not fit this route
                continue
    return sorted(urls)


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            call_command("seed_demo", "--students=60", "--seed=7", stdout=StringIO())
            call_command("scan_lifecycle", stdout=StringIO())
            yield urls_to_walk()
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.mark.django_db
@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_every_page_shows_words_not_codes(demo, lang):
    assert len(demo) > 20, demo  # the walk found the workspace's pages
    opened: set[str] = set()
    problems = []
    for username in ROLES:
        client = Client()
        client.force_login(get_user_model().objects.get(username=username))
        for name, args in demo:
            with translation.override(lang):
                path = reverse(name, args=args)
            url = name
            response = client.get(path, secure=True)
            if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
                continue
            opened.add(url)
            found = sorted(set(CODE.findall(visible_text(response.content.decode()))))
            if found:
                problems.append((username, path, found))
    assert not problems, "\n".join(map(str, problems))
    assert len(opened) > 20, opened
