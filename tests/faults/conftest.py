from tests.web.conftest import _plain_http, as_user, family_a  # noqa: F401
