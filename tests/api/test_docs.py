"""docs/api.md's curl examples are replayed against the app with the documented results."""
from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from rest_framework.authtoken.models import Token

from crm.roles import Role
from tests.factories import staff

from .conftest import HttpsClient

pytestmark = pytest.mark.django_db
GUIDE = Path(settings.BASE_DIR) / "docs" / "api.md"


def curl_examples(text: str) -> list[tuple[str, int]]:
    """(command, expected status) for every `curl` in a ```bash block followed by `# -> N`."""
    examples = []
    for block in re.findall(r"```bash\n(.*?)```", text, flags=re.S):
        lines = block.replace("\\\n", " ").splitlines()
        for line, following in zip(lines, [*lines[1:], ""], strict=True):
            if line.strip().startswith("curl"):
                expected = re.match(r"#\s*->\s*(\d{3})", following.strip())
                assert expected, f"no '# -> status' after: {line}"
                examples.append((line.strip(), int(expected.group(1))))
    return examples


def replay(client: HttpsClient, command: str, env: dict[str, str]) -> Any:
    for name in sorted(env, key=len, reverse=True):
        command = command.replace(f"${name}", env[name])
    args = shlex.split(command)[1:]
    method, headers, body, url = "GET", {}, None, None
    it = iter(args)
    for arg in it:
        if arg == "-X":
            method = next(it)
        elif arg == "-H":
            name, _, value = next(it).partition(":")
            headers[name.strip()] = value.strip()
        elif arg == "-d":
            body = next(it)
        else:
            url = arg
    assert url and url.startswith("/api/"), command
    content_type = headers.pop("Content-Type", "application/json")
    extra = {"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items()}
    return client.generic(method, url, body or "", content_type=content_type, **extra)


def test_the_guide_has_examples_for_every_convention():
    text = GUIDE.read_text()
    for heading in ("## Authentication", "## Lists: pagination", "## Incremental sync",
                    "## Writes and idempotency", "## Errors", "## Throttling"):
        assert heading in text
    assert len(curl_examples(text)) >= 12


def test_every_curl_example_answers_as_documented(world, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    front_desk = staff(Role.FRONT_DESK, world["branch"], username="frontdesk1")
    front_desk.set_password("demo1234")
    front_desk.save()
    manager = staff(Role.MANAGER, world["branch"], username="manager1")
    teacher = world["class_group"].teacher
    env = {
        "BASE": "",
        "TOKEN": Token.objects.create(user=front_desk).key,
        "MANAGER_TOKEN": Token.objects.create(user=manager).key,
        "TEACHER_TOKEN": Token.objects.create(user=teacher).key,
        "STUDENT_ID": str(world["student"].pk),
        "OTHER_BRANCH_STUDENT_ID": str(world["student_b"].pk),
        "CONTRACT_ID": str(world["contract"].pk),
        "SESSION_ID": str(world["session"].pk),
    }
    results = []
    for command, expected in curl_examples(GUIDE.read_text()):
        res = replay(HttpsClient(), command, env)
        results.append((command[:90], expected, res.status_code))
    assert [r for r in results if r[1] != r[2]] == []
