from django.urls import path

from . import views

app_name = "parents"
urlpatterns = [
    path("register/", views.family_register_view, name="register"),
    path("<int:pk>/", views.family_detail, name="detail"),
]
