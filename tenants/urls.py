"""The tenant state API per environment (SPEC §1): /<env>/api/state/<ctx>."""

from django.urls import path

from . import views

app_name = "tenants"

urlpatterns = [
    path("<slug:env>/api/state/<str:ctx>", views.state, name="state"),
]
