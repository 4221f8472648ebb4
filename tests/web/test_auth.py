import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_an_anonymous_visitor_is_sent_to_our_login_page(client):
    response = client.get("/students/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_login_page_renders_with_vendored_assets_and_no_cdn(client):
    html = client.get(reverse("login")).content.decode()
    assert 'id="login-form"' in html or "login-form" in html
    assert "/static/vendor/bootstrap/bootstrap.min.css" in html
    assert "/static/vendor/htmx/htmx.min.js" in html
    assert "cdn" not in html.lower()


def test_logging_in_lands_on_the_role_home(client, front_desk_a):
    response = client.post(reverse("login"), {"username": "fd_a", "password": "pass-1234"})
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert client.get(reverse("home")).status_code == 200


def test_a_wrong_password_shows_an_error_on_the_form(client, front_desk_a):
    response = client.post(reverse("login"), {"username": "fd_a", "password": "nope"})
    assert response.status_code == 200
    assert "correct username and password" in response.content.decode()


def test_logging_out_is_a_post_and_returns_to_login(client, front_desk_a):
    client.force_login(front_desk_a)
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert response["Location"] == reverse("login")
    assert client.get(reverse("home")).status_code == 302
