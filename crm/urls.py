from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from . import views
from .forms import LoginForm

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", include(("crm.api_urls", "v1"), namespace="v1")),
    path("api/schema/", SpectacularAPIView.as_view(api_version="v1"), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]
# The staff workspace and the admin: Chinese at /..., English at /en/... (the navbar's
# switcher posts to set_language, which moves to the same page in the other language).
urlpatterns += i18n_patterns(
    path("accounts/login/",
         auth_views.LoginView.as_view(authentication_form=LoginForm,
                                      redirect_authenticated_user=True),
         name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(next_page="login"), name="logout"),
    path("students/", include("students.urls")),
    path("families/", include("parents.urls")),
    path("data/", include("dataio.urls")),
    path("m/", include("marketing.urls")),
    path("timetable/", include("timetable.urls")),
    path("admin/", admin.site.urls),
    path("", include("workspace.urls")),
    prefix_default_language=False,
)

# 403.html and 404.html are rendered by Django's default handlers (with the request);
# the 500 page is drawn without context processors, which may be what failed.
handler500 = "crm.views.server_error"

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
