from django.shortcuts import render

app_name = "store"
urlpatterns: list = []


def page_not_found(request, exception=None):
    return render(request, "404.html", status=404)
