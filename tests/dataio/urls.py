"""Test URLconf: the project's URLs plus dataio's (until crm/urls.py includes them).

Only one i18n_patterns() may sit in a root URLconf, so the project's localised patterns
are re-wrapped together with dataio's (nothing of crm.urls is mutated).
"""
from django.conf.urls.i18n import i18n_patterns
from django.urls import include, path
from django.urls.resolvers import LocalePrefixPattern

from crm import urls as crm_urls

_localised = [p for p in crm_urls.urlpatterns if isinstance(p.pattern, LocalePrefixPattern)]
_plain = [p for p in crm_urls.urlpatterns if not isinstance(p.pattern, LocalePrefixPattern)]

urlpatterns = [
    path("api/v1/", include("dataio.api.urls")),
    *_plain,
    *i18n_patterns(*[u for r in _localised for u in r.url_patterns],
                   path("data/", include("dataio.urls")), prefix_default_language=False),
]
handler500 = crm_urls.handler500
