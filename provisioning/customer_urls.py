"""Customer administration under /my/ (SPEC §1): a user's tenants and each tenant's installed apps."""

from django.urls import path

from . import views

app_name = "my"

urlpatterns = [
    path("", views.my_companies, name="home"),
    path("<slug:env>/<str:ctx>/apps/", views.installed_apps, name="apps"),
    path("<slug:env>/<str:ctx>/apps/<int:pk>/uninstall/", views.uninstall_app, name="uninstall"),
]
