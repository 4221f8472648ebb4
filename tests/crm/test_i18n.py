"""We ship zh-hans (default) and en: labels, errors and pages follow the language."""
import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from lifecycle.periods import Period
from parents.phones import normalize_phone
from students.choices import Grade


def test_period_and_grade_labels_are_chinese_in_zh_hans_and_english_in_en():
    with translation.override("zh-hans"):
        assert (str(Period.AT_RISK.label), str(Grade.S1.label)) == ("危险期", "高一")
    with translation.override("en"):
        assert str(Period.AT_RISK.label).startswith("At risk")


def test_validation_errors_are_translated():
    with translation.override("zh-hans"), pytest.raises(ValidationError) as exc:
        normalize_phone("1381234567")
    message = exc.value.messages[0]
    assert "1381234567" in message
    assert "mainland mobile" not in message  # a Chinese sentence, not the English source


@pytest.mark.django_db
def test_the_admin_login_page_is_chinese_by_default_and_english_under_en(client, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    zh = client.get("/admin/login/", secure=True, HTTP_ACCEPT_LANGUAGE="zh-hans")
    en = client.get("/en/admin/login/", secure=True)
    assert 'lang="zh-hans"' in zh.content.decode()
    assert 'lang="en"' in en.content.decode()
