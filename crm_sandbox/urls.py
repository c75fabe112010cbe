"""``/sandbox/<env>/<ctx>/``: the read-only pages and, under ``api/``, the CRM web API."""

from django.urls import re_path

from . import api, views

TENANT = r"^(?P<env>sod|stage|online)/(?P<ctx>Cust[0-9]{1,18})/"
ENTITY = r"(?P<entity>Contact|Person|Product|Pricelist|Sale)"

app_name = "crm_sandbox"

urlpatterns = [
    re_path(TENANT + r"$", views.CompanyListView.as_view(), name="companies"),
    re_path(TENANT + r"companies/(?P<pk>[0-9]{1,11})/$", views.CompanyDetailView.as_view(), name="company"),
    re_path(TENANT + r"api/v1/Contact/(?P<pk>[0-9]{1,11})/Persons$", api.ContactPersonsView.as_view()),
    re_path(TENANT + r"api/v1/List/(?P<list_name>Country|Category|Business|Position)/Items$",
            api.ListItemsView.as_view()),
    re_path(TENANT + r"api/v1/ChangeFeed$", api.ChangeFeedView.as_view()),
    re_path(TENANT + r"api/v1/" + ENTITY + r"/default$", api.EntityDefaultView.as_view()),
    re_path(TENANT + r"api/v1/" + ENTITY + r"/(?P<pk>[0-9]{1,11})$", api.EntityItemView.as_view()),
    re_path(TENANT + r"api/v1/" + ENTITY + r"$", api.EntityCollectionView.as_view()),
    re_path(TENANT + r"api/(?P<rest>.*)$", api.NotFoundView.as_view()),
]
