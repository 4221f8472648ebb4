import pytest
from django.test import Client, override_settings
from django.urls import clear_url_caches, reverse

pytestmark = pytest.mark.django_db


@pytest.fixture
def chinese_default(settings):
    """LANGUAGE_CODE decides which language has no URL prefix; reversing caches it."""
    settings.LANGUAGE_CODE = "zh-hans"
    clear_url_caches()
    yield
    clear_url_caches()


def test_chinese_is_the_default_language(chinese_default, front_desk_a):
    client = Client()
    client.force_login(front_desk_a)
    html = client.get(reverse("home")).content.decode()
    assert '<html lang="zh-hans">' in html


def test_the_navbar_switch_changes_the_language(client, front_desk_a, chinese_default):
    client.force_login(front_desk_a)
    response = client.post(reverse("set_language"), {"language": "en", "next": "/students/"})
    assert response.status_code == 302 and response["Location"] == "/en/students/"
    html = client.get("/en/students/").content.decode()
    assert '<html lang="en">' in html
    assert "Students" in html
    response = client.post(reverse("set_language"), {"language": "zh-hans",
                                                     "next": "/students/"})
    assert response["Location"] == "/students/"
    assert '<html lang="zh-hans">' in client.get("/students/").content.decode()
    assert 'id="lang-zh-hans"' in html and 'id="lang-en"' in html
    assert 'name="next" type="hidden" value="/students/"' in html


def test_the_404_page_is_ours(client, front_desk_a):
    client.force_login(front_desk_a)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "error-404" in response.content.decode()


@override_settings(DEBUG=False)
def test_the_500_page_renders_without_the_database(rf):
    from crm.views import server_error

    response = server_error(rf.get("/"))
    assert response.status_code == 500
    assert "error-500" in response.content.decode()
