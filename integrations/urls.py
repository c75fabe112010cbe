"""The tenant administrator's ERP connection pages, under
/my/<env>/<ctx>/apps/<authorization pk>/erp/ (included from config/urls.py)."""

from django.urls import path

from . import views

app_name = "erp"

urlpatterns = [
    path("", views.connections, name="connections"),
    path("new/", views.new_connection, name="new"),
    path("<uuid:guid>/", views.connection_page, name="connection"),
    path("<uuid:guid>/configuration/", views.edit_configuration, name="configure"),
    path("<uuid:guid>/delete/", views.delete_connection, name="delete"),
    path("<uuid:guid>/mapping/", views.mapping_page, name="mapping"),
    path("<uuid:guid>/runs/<int:pk>/", views.run_page, name="run"),
    path("<uuid:guid>/runs/<int:pk>/progress.json", views.run_progress, name="progress"),
]
