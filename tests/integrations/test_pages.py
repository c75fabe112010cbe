"""The tenant administrator's ERP connection pages over the Django test client, against the reference
ERP connector and the CRM sandbox over real HTTP (the ``erp_world`` fixture): the connection list
and the installed-apps link, the form built from GetConfigData with Test and Save, the mapping,
activation and the schedule's periodic task, runs and their log, deletion, and who may do what."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest
from django.db import connection as db_connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_celery_beat.models import PeriodicTask

from appstore.models import ConfigurationVersion, VersionState
from integrations.erp.services.schedule import task_name
from integrations.models import (
    CallTarget,
    Direction,
    ErpConnection,
    FieldMapping,
    IntegrationCall,
    LogKind,
    RunKind,
    RunState,
    SyncLogEntry,
    SyncRun,
)

pytestmark = pytest.mark.django_db(transaction=True)

CTX, OTHER = "Cust10001", "Cust10002"


# --- A little HTML reading ------------------------------------------------------------------------

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Element:
    def __init__(self, tag: str, attrs: dict, parent: Element | None):
        self.tag, self.attrs, self.parent, self.children, self.parts = tag, attrs, parent, [], []

    @property
    def text(self) -> str:
        return " ".join("".join(self.parts).split())

    def classes(self) -> set[str]:
        return set((self.attrs.get("class") or "").split())

    def find_all(self, tag: str | None = None, **attrs) -> list[Element]:
        found = []
        for child in self.children:
            if (tag is None or child.tag == tag) and all(
                child.attrs.get(k.rstrip("_").replace("_", "-")) == v for k, v in attrs.items()
            ):
                found.append(child)
            found.extend(child.find_all(tag, **attrs))
        return found

    def find(self, tag: str | None = None, **attrs) -> Element:
        found = self.find_all(tag, **attrs)
        assert found, f"no <{tag} {attrs}>"
        return found[0]

    def has(self, tag: str | None = None, **attrs) -> bool:
        return bool(self.find_all(tag, **attrs))


class _Builder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Element("#root", {}, None)
        self.current = self.root

    def handle_starttag(self, tag, attrs):
        element = Element(tag, {k: ("" if v is None else v) for k, v in attrs}, self.current)
        self.current.children.append(element)
        if tag not in VOID:
            self.current = element

    def handle_endtag(self, tag):
        node = self.current
        while node is not self.root and node.tag != tag:
            node = node.parent
        if node is not self.root:
            self.current = node.parent

    def handle_data(self, data):
        node = self.current
        while node is not None:
            node.parts.append(data)
            node = node.parent


def page(response) -> Element:
    builder = _Builder()
    builder.feed(response.content.decode())
    return builder.root


def messages_of(response) -> list[str]:
    return [
        m.text
        for m in page(response).find_all("div")
        if "message" in m.classes() and m.parent is not None and "messages" in m.parent.classes()
    ]


# --- The world --------------------------------------------------------------------------------------


class Site:
    """One tenant with Acme ERP installed, its people and the URLs of its ERP pages."""

    def __init__(self, world, ctx: str):
        self.world, self.ctx = world, ctx
        self.people = world.tenants.get(ctx) or world.install(ctx)
        self.authorization = world.authorizations[ctx]

    def url(self, name: str, *args) -> str:
        return reverse(f"erp:{name}", args=["sod", self.ctx, self.authorization.pk, *args])

    def conn_url(self, name: str, connection: ErpConnection, *args) -> str:
        return self.url(name, connection.connection_id, *args)

    def client(self, who: str = "admin", **kwargs) -> Client:
        client = Client(**kwargs)
        client.force_login(getattr(self.people, who).user)
        return client

    def connect(self, company_database: str = "demo", **kwargs) -> ErpConnection:
        return self.world.connect(self.ctx, company_database, **kwargs)


@pytest.fixture
def site(erp_world) -> Site:
    return Site(erp_world, CTX)


def config_post(action: str = "save", **values) -> dict:
    data = {
        "action": action,
        "name": "",
        "cfg_CompanyDatabase": "demo",
        "cfg_ApiKey": "",
        "cfg_Region": "nordic",
        "cfg_IncludeSuppliers": "on",
    }
    data.update({key if key in ("name", "action") else f"cfg_{key}": value for key, value in values.items()})
    return {k: v for k, v in data.items() if v is not None}


def mapping_post(connection: ErpConnection, **rows) -> dict:
    """The mapping form as the page sends it, with rows changed: ActorType__FieldKey=(crm, direction)."""
    data = {"form": "fields"}
    for actor in connection.actor_mappings.all():
        if actor.enabled:
            data[f"enabled-{actor.actor_type}"] = "on"
        for current in actor.fields.all():
            key = f"{actor.actor_type}.{current.erp_field}"
            crm, direction = rows.get(
                f"{actor.actor_type}__{current.erp_field}", (current.crm_field, current.direction)
            )
            data[f"crm-{key}"], data[f"dir-{key}"] = crm, direction
    return data


def mapped(connection: ErpConnection, actor_type: str, field: str) -> tuple[str, str]:
    current = FieldMapping.objects.get(
        actor_mapping__connection=connection, actor_mapping__actor_type=actor_type, erp_field=field
    )
    return current.crm_field, current.direction


def set_endpoint_enabled(world, enabled: bool) -> None:
    version = ConfigurationVersion.objects.get(
        app=world.login.app, environment__code="sod", state=VersionState.PUBLISHED, superseded_at__isnull=True
    )
    endpoints = dict(version.endpoints)
    endpoints["erp_sync"] = {**endpoints["erp_sync"], "enabled": enabled}
    ConfigurationVersion.objects.filter(pk=version.pk).update(endpoints=endpoints)


# --- The connection list and the installed-apps page ---------------------------------------------------


def test_the_connection_list_and_the_erp_sync_link_on_the_installed_apps_page(site):
    client = site.client()
    apps_url = reverse("my:apps", args=["sod", CTX])
    apps = page(client.get(apps_url))
    assert apps.find("a", href=site.url("connections")).text == "ERP sync of Acme ERP"

    empty = client.get(site.url("connections"))
    assert empty.status_code == 200
    assert page(empty).find("a", href=site.url("new")).text == "New connection"
    assert not page(empty).has("table")

    connection = site.connect(activate=False)
    rows = page(client.get(site.url("connections"))).find("table").find("tbody").find_all("tr")
    assert len(rows) == 1
    assert rows[0].find("a").attrs["href"] == site.conn_url("connection", connection)
    assert "ERP demo" in rows[0].text and str(connection.connection_id) in rows[0].text
    assert "Inactive" in rows[0].text and "every 60 s" in rows[0].text

    # The partner turns the endpoint off: no link on the apps page, no New connection button.
    set_endpoint_enabled(site.world, False)
    assert not page(client.get(apps_url)).has("a", href=site.url("connections"))
    off = client.get(site.url("connections"))
    assert not page(off).has("a", href=site.url("new"))
    assert "Acme ERP does not offer ERP sync" in off.content.decode()
    assert "ERP demo" in off.content.decode()  # the connection is still listed
    new = client.get(site.url("new"))
    assert new.status_code == 200
    assert "Acme ERP does not offer ERP sync in sod." in page(new).find("main").text
    assert not page(new).has("form", class_="erp-config-form")


# --- The new-connection form -------------------------------------------------------------------------


def test_the_new_connection_form_is_built_from_the_connectors_configuration_fields(site):
    response = site.client().get(site.url("new"))
    assert response.status_code == 200
    form = page(response).find("form", class_="erp-config-form")

    company = form.find("input", name="cfg_CompanyDatabase")
    assert company.attrs["type"] == "text" and "required" in company.attrs
    assert company.attrs["maxlength"] == "50"
    label = form.find("label", for_="id_cfg_CompanyDatabase")
    assert "Company database" in label.text and label.has("span", class_="required")

    region = form.find("select", name="cfg_Region")
    options = [(o.attrs["value"], o.text, "selected" in o.attrs) for o in region.find_all("option")]
    assert options == [
        ("", "—", False),
        ("nordic", "Nordic countries", True),
        ("europe", "Europe", False),
        ("world", "Worldwide", False),
    ]

    suppliers = form.find("input", name="cfg_IncludeSuppliers")
    assert suppliers.attrs["type"] == "checkbox" and "checked" in suppliers.attrs
    assert form.find("input", name="cfg_ApiKey").attrs["type"] == "password"

    # The Info label is text, not a field.
    info = form.find("div", data_field="Info")
    assert info.text == "Company databases in this ERP: demo, test."
    assert not form.has(name="cfg_Info")
    # The connector's order: CompanyDatabase, ApiKey, Region, IncludeSuppliers, Info.
    order = [e.attrs.get("data-field") for e in form.find_all("div") if e.attrs.get("data-field")]
    assert order == [
        "name",
        "cfg_CompanyDatabase",
        "cfg_ApiKey",
        "cfg_Region",
        "cfg_IncludeSuppliers",
        "Info",
    ]


def _with_read_only_field(seen, forward):
    """GetConfigData's answer with a read-only field added."""
    status, body, _ = forward()
    answer = json.loads(body)
    answer["Fields"].append(
        {
            "FieldKey": "Version",
            "DisplayName": "Connector version",
            "DisplayDescription": "",
            "FieldType": 1,
            "ListName": "",
            "DefaultValue": "2.1",
            "MaxLength": 0,
            "Access": 2,
            "Rank": 9,
        }
    )
    return status, json.dumps(answer).encode()


def test_a_read_only_configuration_field_is_disabled_and_sends_the_connectors_value(site):
    proxy = site.world.connector_proxy()
    proxy.when(lambda seen: seen.path == "/GetConfigData", _with_read_only_field)
    client = site.client()
    form = page(client.get(site.url("new"))).find("form", class_="erp-config-form")
    version = form.find("input", name="cfg_Version")
    assert "disabled" in version.attrs and version.attrs["value"] == "2.1"
    assert "required" not in version.attrs
    assert "cannot be changed here" in form.text

    # A value posted for it anyway is ignored: the connector's default is what is sent.
    response = client.post(site.url("new"), config_post("test", Version="9.9"))
    assert response.status_code == 200
    sent = [json.loads(s.body) for s in proxy.seen if s.path == "/TestConfigData"]
    assert sent[-1]["ConfigFields"]["Version"] == "2.1"


def test_test_shows_the_connectors_explanation_for_a_passing_and_a_failing_configuration(site):
    client = site.client()
    passed = client.post(site.url("new"), config_post("test"))
    assert passed.status_code == 200
    assert messages_of(passed) == ["Test passed: The company database 'demo' is available."]
    # What was typed stays in the form.
    assert page(passed).find("input", name="cfg_CompanyDatabase").attrs["value"] == "demo"

    failed = client.post(site.url("new"), config_post("test", CompanyDatabase="nope", Region="europe"))
    assert failed.status_code == 200
    assert messages_of(failed) == [
        "Test failed: There is no company database called 'nope' in this ERP. Use one of: demo, test."
    ]
    region = page(failed).find("select", name="cfg_Region")
    assert [o.attrs["value"] for o in region.find_all("option") if "selected" in o.attrs] == ["europe"]
    assert not ErpConnection.objects.exists()


def test_save_creates_the_connection_under_a_guid_and_opens_its_page(site):
    client = site.client()
    response = client.post(
        site.url("new"),
        config_post(name="  Demo   books ", Region="world", ApiKey="s3cret", IncludeSuppliers=None),
    )
    connection = ErpConnection.objects.get()
    assert response.status_code == 302
    assert response["Location"] == site.conn_url("connection", connection)
    assert re.search(
        r"/erp/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/$", response["Location"]
    )
    assert connection.name == "Demo books"
    assert set(connection.actor_types) >= {"Customer", "Person"}
    with site.world.erp() as erp:
        from examples.erp_connector import store

        kept = store.get_connection(erp, str(connection.connection_id))
    assert kept["ctx"] == CTX
    assert kept["config"] == {
        "ApiKey": "s3cret",
        "CompanyDatabase": "demo",
        "IncludeSuppliers": "[I:0]",
        "Region": "world",
    }

    shown = client.get(response["Location"])
    assert shown.status_code == 200
    assert page(shown).find("h1").text == "Demo books"
    assert any("was saved" in m for m in messages_of(shown))


def test_save_without_the_mandatory_field_shows_the_error_at_the_field_and_creates_nothing(site):
    proxy = site.world.connector_proxy()
    response = site.client().post(site.url("new"), config_post(name="X", CompanyDatabase="  "))
    assert response.status_code == 200
    field = page(response).find("div", data_field="cfg_CompanyDatabase")
    assert "has-error" in field.classes()
    errors = field.find("ul", class_="errorlist")
    assert "hidden" not in errors.attrs and "required" in errors.text
    assert page(response).has("div", class_="message message-error error-summary")
    assert not ErpConnection.objects.exists()
    assert "/SaveConnection" not in proxy.paths() and "/TestConfigData" not in proxy.paths()


def test_save_with_a_configuration_the_connector_refuses_creates_nothing(site):
    response = site.client().post(site.url("new"), config_post(CompanyDatabase="nope"))
    assert response.status_code == 200
    assert (
        "Nothing was saved: There is no company database called 'nope'"
        in page(response).find("form", class_="erp-config-form").text
    )
    assert not ErpConnection.objects.exists()


def _error_boxes(response) -> list[Element]:
    form = page(response).find("form", class_="erp-config-form")
    return [box for box in form.find_all("div") if "message-error" in box.classes()]


def test_a_refused_save_shows_the_connectors_explanation_in_the_summary_and_marks_no_field(site):
    response = site.client().post(site.url("new"), config_post(CompanyDatabase="nope"))

    [summary] = _error_boxes(response)
    assert summary.attrs["role"] == "alert" and "error-summary" in summary.classes()
    assert summary.text == ("Nothing was saved: There is no company database called 'nope' in this ERP. "
                            "Use one of: demo, test.")
    assert "marked fields" not in summary.text and not summary.has("ul")
    form = page(response).find("form", class_="erp-config-form")
    assert not [field for field in form.find_all("div") if "has-error" in field.classes()]


def test_the_summary_says_marked_fields_and_links_them_only_when_a_field_is_marked(site):
    response = site.client().post(site.url("new"), config_post(name="X", CompanyDatabase="  "))

    [summary] = _error_boxes(response)
    assert summary.text.startswith("Please correct the marked fields.")
    [link] = summary.find("ul").find_all("a")
    assert link.attrs["href"] == "#id_cfg_CompanyDatabase_error"
    assert page(response).has("ul", id="id_cfg_CompanyDatabase_error")


def test_editing_the_configuration_keeps_a_saved_password_left_blank(site):
    client = site.client()
    client.post(site.url("new"), config_post(ApiKey="s3cret"))
    connection = ErpConnection.objects.get()
    url = site.conn_url("configure", connection)
    form = page(client.get(url)).find("form", class_="erp-config-form")
    assert form.find("input", name="cfg_ApiKey").attrs.get("value", "") == ""
    assert form.find("input", name="cfg_CompanyDatabase").attrs["value"] == "demo"
    assert not form.has(name="name")

    response = client.post(url, config_post(CompanyDatabase="test", name=None))
    assert response.status_code == 302
    with site.world.erp() as erp:
        from examples.erp_connector import store

        kept = store.get_connection(erp, str(connection.connection_id))
    assert (kept["config"]["CompanyDatabase"], kept["config"]["ApiKey"]) == ("test", "s3cret")


# --- Mapping, activation, schedule -----------------------------------------------------------------


def test_the_mapping_page_saves_directions(site):
    connection = site.connect(activate=False)
    client = site.client()
    url = site.conn_url("mapping", connection)
    shown = page(client.get(url))
    row = shown.find("tr", data_row="Customer.Name")
    assert "Mandatory" in row.text
    assert [
        o.attrs["value"]
        for o in row.find("select", name="dir-Customer.Name").find_all("option")
        if "selected" in o.attrs
    ] == [Direction.TO_CRM]
    assert "Read-only" in shown.find("tr", data_row="Customer.ErpId").text

    response = client.post(
        url,
        mapping_post(
            connection,
            Customer__Department=("Department", Direction.TO_ERP),
            Customer__Phone=("", Direction.OFF),
        ),
    )
    assert response.status_code == 302 and response["Location"] == url
    assert mapped(connection, "Customer", "Department") == ("Department", Direction.TO_ERP)
    assert mapped(connection, "Customer", "Phone") == ("", Direction.OFF)
    assert messages_of(client.get(url)) == ["The mapping was saved."]


def test_an_invalid_mapping_is_refused_naming_the_field_and_nothing_is_saved(site):
    connection = site.connect(activate=False)
    client = site.client()
    url = site.conn_url("mapping", connection)
    response = client.post(
        url,
        mapping_post(
            connection,
            Customer__Department=("Department", Direction.TO_ERP),
            Customer__Country=("Name", Direction.TO_CRM),
        ),
    )
    assert response.status_code == 200
    shown = page(response)
    row = shown.find("tr", data_row="Customer.Country")
    assert "has-error" in row.classes()
    assert (
        row.find("ul", class_="errorlist").text == "Country is a list and pairs only with a CRM list field."
    )
    # The posted choices are shown again, the other rows unmarked.
    assert [
        o.attrs["value"]
        for o in row.find("select", name="crm-Customer.Country").find_all("option")
        if "selected" in o.attrs
    ] == ["Name"]
    assert "has-error" not in shown.find("tr", data_row="Customer.Department").classes()
    # Said once, by the summary at the top of the form, not again by a message above the page.
    heading = shown.find("div", id="field-errors").find("strong").text
    assert heading == "Nothing was saved: 1 row needs attention."
    assert messages_of(response) == []
    assert mapped(connection, "Customer", "Department") == ("Department", Direction.TO_CRM)
    assert mapped(connection, "Customer", "Country") == ("Country", Direction.TO_CRM)

    # A read-only ERP field cannot be sent to the ERP.
    response = client.post(url, mapping_post(connection, Customer__ErpId=("Number2", Direction.TO_ERP)))
    assert "ERP ID is read-only in the ERP" in page(response).find("tr", data_row="Customer.ErpId").text
    assert mapped(connection, "Customer", "ErpId") == ("", Direction.OFF)


def test_a_refused_mapping_save_lists_each_error_at_the_top_of_the_form_linked_to_its_control(site):
    connection = site.connect(activate=False)
    response = site.client().post(site.conn_url("mapping", connection), mapping_post(
        connection, Customer__Country=("Name", Direction.TO_CRM),
        Customer__ErpId=("Number2", Direction.TO_ERP)))

    assert response.status_code == 200
    form = page(response).find("fieldset", class_="erp-mapping").parent
    summary = form.find("div", id="field-errors")
    assert form.children[2] is summary  # after the token and the form's name, before the rows
    assert (summary.attrs["role"], summary.attrs["tabindex"]) == ("alert", "-1")
    assert "data-focus-on-load" in summary.attrs and "error-summary" in summary.classes()
    assert summary.find("strong").text == "Nothing was saved: 2 rows need attention."
    links = summary.find("ul").find_all("a")
    rows = [form.find("tr", data_row=key) for key in ("Customer.Country", "Customer.ErpId")]  # page order
    assert [link.attrs["href"] for link in links] == [
        "#" + row.find("select", name=f"crm-{row.attrs['data-row']}").attrs["id"] for row in rows]
    assert [link.text for link in links] == [
        "Customer Country: Country is a list and pairs only with a CRM list field.",
        "Customer ERP ID: ERP ID is read-only in the ERP; it can only sync to the CRM."]
    for row in rows:
        error = row.find("ul", class_="errorlist").attrs["id"]
        for select in row.find_all("select"):
            assert (select.attrs["aria-describedby"], select.attrs["aria-invalid"]) == (error, "true")


def test_the_mapping_selects_are_labelled_with_the_actor_type_and_the_fields_display_name(site):
    connection = site.connect(activate=False)
    shown = page(site.client().get(site.conn_url("mapping", connection)))
    assert not shown.has("div", id="field-errors") and not shown.has("div", id="list-errors")
    labels = {label.attrs["for"]: label.text for label in shown.find_all("label")}
    row = shown.find("tr", data_row="Customer.ErpId")
    crm = row.find("select", name="crm-Customer.ErpId")
    direction = row.find("select", name="dir-Customer.ErpId")
    assert labels[crm.attrs["id"]] == "CRM field for Customer ERP ID"
    assert labels[direction.attrs["id"]] == "Direction of Customer ERP ID"
    person = shown.find("tr", data_row="Person.ErpId").find("select", name="crm-Person.ErpId")
    assert labels[person.attrs["id"]] == "CRM field for Person ERP ID"


def test_a_refused_list_items_save_is_summed_up_at_the_top_of_its_form(site):
    connection = site.connect(activate=False)
    item = connection.list_mappings.get(erp_list="Countries", erp_key="NO")
    response = site.client().post(site.conn_url("mapping", connection),
                                  {"form": "lists", f"item-{item.pk}": "x"})

    summary = page(response).find("div", id="list-errors")
    assert summary.parent.find("input", name="form").attrs["value"] == "lists"
    assert (summary.attrs["role"], summary.attrs["tabindex"]) == ("alert", "-1")
    [link] = summary.find_all("a")
    assert link.attrs["href"] == f"#item-{item.pk}"
    assert link.text == "Norway: choose an item of the CRM's Country list."
    assert not page(response).has("div", id="field-errors") and messages_of(response) == []


def test_messages_are_inside_main_errors_are_alerts_and_the_status_region_starts_empty(site):
    client = site.client()
    failed = page(client.post(site.url("new"), config_post("test", CompanyDatabase="nope")))
    main = failed.find("main", id="main")
    [message] = [div for div in main.find_all("div") if "message-error" in div.classes()
                 and "messages" in div.parent.classes()]
    assert message.attrs["role"] == "alert" and message.text.startswith("Test failed:")
    assert main.find("div", id="announcer").attrs["role"] == "status"
    assert main.find("div", id="announcer").text == ""

    passed = page(client.post(site.url("new"), config_post("test")))
    [message] = [div for div in passed.find("main", id="main").find_all("div")
                 if "messages" in div.parent.classes()]
    assert message.text.startswith("Test passed:") and "role" not in message.attrs
    assert passed.find("div", id="announcer").text == ""  # site.js says it once the page has loaded


def test_list_items_pair_with_the_crms_list_items(site):
    connection = site.connect(activate=False)
    client = site.client()
    url = site.conn_url("mapping", connection)
    item = connection.list_mappings.get(erp_list="Countries", erp_key="NO")
    select = page(client.get(url)).find("select", name=f"item-{item.pk}")
    choices = {o.text: o.attrs["value"] for o in select.find_all("option")}
    assert choices["Norway"] == str(item.crm_id)
    other = next(value for text, value in choices.items() if value and text != "Norway")

    response = client.post(url, {"form": "lists", f"item-{item.pk}": other})
    assert response.status_code == 302
    item.refresh_from_db()
    assert str(item.crm_id) == other
    assert item.crm_name == next(text for text, value in choices.items() if value == other)

    refused = client.post(url, {"form": "lists", f"item-{item.pk}": "999999"})
    assert refused.status_code == 200
    assert (
        "choose an item of the CRM's Country list"
        in page(refused).find("select", name=f"item-{item.pk}").parent.text
    )
    item.refresh_from_db()
    assert str(item.crm_id) == other


def test_activation_is_refused_while_a_mandatory_field_has_no_direction(site):
    connection = site.connect(activate=False)
    client = site.client()
    page_url = site.conn_url("connection", connection)
    client.post(
        site.conn_url("mapping", connection),
        mapping_post(connection, Customer__Name=("", Direction.OFF)),
        follow=True,
    )
    problems = page(client.get(page_url)).find("ul", class_="activation-problems")
    assert problems.text == "Customer: the mandatory field Name needs a direction."

    refused = client.post(page_url, {"action": "activate"}, follow=True)
    assert messages_of(refused) == [
        "The connection was not activated: Customer: the mandatory field Name needs a direction."
    ]
    connection.refresh_from_db()
    assert not connection.is_active
    assert not PeriodicTask.objects.filter(name=task_name(connection.tenant)).exists()

    client.post(
        site.conn_url("mapping", connection),
        mapping_post(connection, Customer__Name=("Name", Direction.TO_CRM)),
        follow=True,
    )
    activated = client.post(page_url, {"action": "activate"}, follow=True)
    assert messages_of(activated) == ["ERP demo is active: it syncs every 60 seconds."]
    connection.refresh_from_db()
    assert connection.is_active
    task = PeriodicTask.objects.get(name=task_name(connection.tenant))
    assert task.enabled and task.task == "integrations.erp.tasks.sync_tenant"
    assert (task.interval.every, task.interval.period) == (60, "seconds")
    assert json.loads(task.kwargs) == {"tenant_id": connection.tenant_id}
    assert page(activated).find("span", class_="tag tag-state-published").text == "Active"

    deactivated = client.post(page_url, {"action": "deactivate"}, follow=True)
    assert messages_of(deactivated) == ["ERP demo is inactive: scheduled syncs stopped."]
    connection.refresh_from_db()
    assert not connection.is_active
    assert not PeriodicTask.objects.filter(name=task_name(connection.tenant)).exists()


def test_the_schedule_form_shows_an_out_of_range_interval_and_saves_a_good_one(site):
    connection = site.connect()
    client = site.client()
    url = site.conn_url("connection", connection)
    response = client.post(url, {"action": "schedule", "sync_interval": "5", "rank": "2"})
    assert response.status_code == 200
    field = page(response).find("div", data_field="sync_interval")
    assert "has-error" in field.classes()
    assert field.find("ul", class_="errorlist").text == "Ensure this value is greater than or equal to 30."
    assert "The schedule was not saved." in page(response).text
    # The value typed is shown again.
    assert field.find("input").attrs["value"] == "5"
    connection.refresh_from_db()
    assert (connection.sync_interval, connection.rank) == (60, 1)

    too_long = client.post(url, {"action": "schedule", "sync_interval": "86401", "rank": "1"})
    assert "less than or equal to 86400" in page(too_long).find("div", data_field="sync_interval").text

    saved = client.post(url, {"action": "schedule", "sync_interval": "300", "rank": "3"}, follow=True)
    assert messages_of(saved) == ["The schedule was saved."]
    connection.refresh_from_db()
    assert (connection.sync_interval, connection.rank) == (300, 3)
    assert PeriodicTask.objects.get(name=task_name(connection.tenant)).interval.every == 300


# --- Runs ------------------------------------------------------------------------------------------


def test_sync_now_needs_an_active_connection_and_force_sync_does_not(site):
    connection = site.connect(activate=False)
    client = site.client()
    url = site.conn_url("connection", connection)
    sync_now = page(client.get(url)).find("button", value=RunKind.MANUAL)
    assert "disabled" in sync_now.attrs

    refused = client.post(url, {"action": "run", "kind": RunKind.MANUAL}, follow=True)
    assert messages_of(refused) == [
        "No run was started: The connection is not active: activate it, or use Force sync."
    ]
    assert not SyncRun.objects.exists()

    # Runs are dispatched when the request's transaction commits; in tests Celery runs the task
    # eagerly, so the run has finished by the time the page is shown again.
    forced = client.post(url, {"action": "run", "kind": RunKind.FORCE}, follow=True)
    assert messages_of(forced) == ["Force sync was queued."]
    run = SyncRun.objects.get()
    assert (run.kind, run.state, run.requested_by) == (
        RunKind.FORCE,
        RunState.SUCCEEDED,
        site.people.admin.user,
    )
    assert (run.total, run.processed, run.created) == (9, 9, 9)
    shown = page(forced)
    assert not shown.has("section", class_="card section-gap erp-progress")  # nothing is open
    rows = shown.find("table", class_="table review-table erp-runs").find("tbody").find_all("tr")
    assert len(rows) == 1
    assert "Force sync" in rows[0].text and "Succeeded" in rows[0].text and "9 / 9" in rows[0].text

    client.post(url, {"action": "activate"})
    client.post(url, {"action": "run", "kind": RunKind.MANUAL})
    latest = SyncRun.objects.order_by("-id").first()
    assert (latest.kind, latest.state) == (RunKind.MANUAL, RunState.SUCCEEDED)


def test_the_run_page_shows_the_log_and_the_calls_and_progress_json_the_numbers(site):
    connection = site.connect()
    client = site.client()
    client.post(site.conn_url("connection", connection), {"action": "run", "kind": RunKind.FORCE})
    run = SyncRun.objects.get()
    response = client.get(site.conn_url("run", connection, run.pk))
    assert response.status_code == 200
    shown = page(response)
    assert shown.find("h1").text == "Force sync of ERP demo"
    # A finished run shows no phase: its last one would read as if it were still at work.
    facts = [dt.text for dt in shown.find("dl", class_="facts card").find_all("dt")]
    assert "Phase" not in facts and "Stopped at" not in facts and "Created" in facts
    log = shown.find("table", class_="table review-table erp-log").find("tbody").find_all("tr")
    created = SyncLogEntry.objects.filter(run=run, kind=LogKind.CREATED).count()
    assert created == 9 and len(log) == SyncLogEntry.objects.filter(run=run).count()
    assert sum("Record created" in row.text for row in log) == 9
    calls = shown.find("table", class_="table review-table erp-calls").find("tbody").find_all("tr")
    operations = [row.find("code").text for row in calls]
    assert "GetActorsByTimestamp" in operations and "Authenticate" in operations

    filtered = page(client.get(site.conn_url("run", connection, run.pk), {"kind": LogKind.CHANGE}))
    assert not filtered.has("table", class_="table review-table erp-log")
    assert "No entries of this kind." in filtered.text

    progress = client.get(site.conn_url("progress", connection, run.pk))
    assert progress.status_code == 200 and progress["Content-Type"] == "application/json"
    assert progress.json() == {
        "id": run.pk,
        "state": "succeeded",
        "state_label": "Succeeded",
        "finished": True,
        "phase": run.phase,
        "processed": 9,
        "total": 9,
        "percent": 100,
        "counts": {"created": 9, "updated": 0, "pushed": 0, "skipped": 0},
        "error": "",
    }


def test_a_queued_run_shows_the_progress_box_and_its_json(site):
    from integrations.erp.services.runs import queue_run_now

    connection = site.connect()
    run = queue_run_now(connection=connection, kind=RunKind.FORCE)
    client = site.client()
    shown = page(client.get(site.conn_url("connection", connection)))
    box = shown.find("section", class_="card section-gap erp-progress")
    assert box.attrs["data-progress-url"] == site.conn_url("progress", connection, run.pk)
    assert box.find("span", data_progress="phase").text == "Waiting for a worker"
    assert shown.has("script", src="/static/js/erp-progress.js")
    data = client.get(site.conn_url("progress", connection, run.pk)).json()
    assert (data["state"], data["finished"], data["percent"]) == ("queued", False, 0)


def test_delete_asks_for_confirmation_then_deletes(site):
    connection = site.connect()
    client = site.client()
    url = site.conn_url("delete", connection)
    confirm = client.get(url)
    assert confirm.status_code == 200
    assert page(confirm).find("main").find("button", type="submit").text == "Delete ERP demo"
    assert ErpConnection.objects.filter(pk=connection.pk).exists()

    deleted = client.post(url, follow=True)
    assert deleted.redirect_chain == [(site.url("connections"), 302)]
    assert messages_of(deleted) == ["The connection ERP demo was deleted."]
    assert not ErpConnection.objects.filter(pk=connection.pk).exists()
    assert not PeriodicTask.objects.filter(name=task_name(connection.tenant)).exists()
    with site.world.erp() as erp:
        from examples.erp_connector import store

        assert store.get_connection(erp, str(connection.connection_id)) is None


# --- Who may do what --------------------------------------------------------------------------------


def _page_urls(site, connection, run) -> list[str]:
    return [
        site.url("connections"),
        site.conn_url("connection", connection),
        site.conn_url("mapping", connection),
        site.conn_url("run", connection, run.pk),
        site.conn_url("progress", connection, run.pk),
    ]


def _post_urls(site, connection) -> list[tuple[str, dict]]:
    return [
        (site.url("new"), config_post()),
        (site.conn_url("configure", connection), config_post(CompanyDatabase="test")),
        (site.conn_url("connection", connection), {"action": "deactivate"}),
        (site.conn_url("connection", connection), {"action": "run", "kind": RunKind.FORCE}),
        (site.conn_url("connection", connection), {"action": "schedule", "sync_interval": "90", "rank": "1"}),
        (site.conn_url("connection", connection), {"action": "refresh"}),
        (site.conn_url("mapping", connection), mapping_post(connection, Customer__Phone=("", Direction.OFF))),
        (site.conn_url("mapping", connection), {"form": "lists"}),
        (site.conn_url("delete", connection), {}),
    ]


def test_a_member_sees_the_pages_but_every_post_is_forbidden(site):
    connection = site.connect()
    run = SyncRun.objects.create(
        connection=connection, tenant=connection.tenant, kind=RunKind.FORCE, state=RunState.SUCCEEDED
    )
    client = site.client("member")
    for url in _page_urls(site, connection, run):
        assert client.get(url).status_code == 200, url
    listing = page(client.get(site.url("connections")))
    assert not listing.has("a", href=site.url("new"))
    assert "Only administrators" in listing.text
    shown = page(client.get(site.conn_url("connection", connection)))
    assert not shown.has("button", value=RunKind.FORCE) and not shown.has("input", value="schedule")
    assert not shown.has("a", href=site.conn_url("delete", connection))
    assert "disabled" in page(client.get(site.conn_url("mapping", connection))).find("fieldset").attrs
    for url in (site.url("new"), site.conn_url("configure", connection), site.conn_url("delete", connection)):
        assert client.get(url).status_code == 403, url

    for url, data in _post_urls(site, connection):
        assert client.post(url, data).status_code == 403, url
    connection.refresh_from_db()
    assert connection.is_active and connection.sync_interval == 60
    assert mapped(connection, "Customer", "Phone") == ("Phone", Direction.TO_CRM)
    assert SyncRun.objects.count() == 1 and ErpConnection.objects.count() == 1


def test_another_tenants_admin_gets_404_for_this_tenants_connections_and_runs(site, erp_world):
    connection = site.connect()
    run = SyncRun.objects.create(connection=connection, tenant=connection.tenant, kind=RunKind.FORCE)
    other = Site(erp_world, OTHER)
    client = other.client()
    own = [
        site.url("new"),
        site.conn_url("configure", connection),
        site.conn_url("delete", connection),
        *_page_urls(site, connection, run),
    ]
    for url in own:
        assert client.get(url).status_code == 404, url
    # The other tenant's own URL prefix with this tenant's connection GUID or authorization.
    for url in [
        other.conn_url(name, connection) for name in ("connection", "mapping", "configure", "delete")
    ] + [other.conn_url("run", connection, run.pk), other.conn_url("progress", connection, run.pk)]:
        assert client.get(url).status_code == 404, url
    foreign = reverse("erp:connections", args=["sod", OTHER, site.authorization.pk])
    assert client.get(foreign).status_code == 404
    for url, data in _post_urls(site, connection):
        assert client.post(url, data).status_code == 404, url
    assert client.post(other.conn_url("delete", connection)).status_code == 404
    assert ErpConnection.objects.filter(pk=connection.pk, is_active=True).exists()


def test_a_post_without_the_csrf_token_is_refused(site):
    connection = site.connect()
    client = site.client(enforce_csrf_checks=True)
    url = site.conn_url("connection", connection)
    assert client.post(url, {"action": "deactivate"}).status_code == 403
    connection.refresh_from_db()
    assert connection.is_active

    token = page(client.get(url)).find("input", name="csrfmiddlewaretoken").attrs["value"]
    assert client.post(url, {"action": "deactivate", "csrfmiddlewaretoken": token}).status_code == 302
    connection.refresh_from_db()
    assert not connection.is_active


# --- Query counts --------------------------------------------------------------------------------------


def _queries(client, url) -> int:
    with CaptureQueriesContext(db_connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def _runs(connection, count: int, user) -> None:
    SyncRun.objects.bulk_create(
        [
            SyncRun(
                connection=connection,
                tenant=connection.tenant,
                kind=RunKind.FORCE,
                state=RunState.FAILED,
                requested_by=user,
                total=3,
                processed=2,
                error="The connector answered 503.",
            )
            for _ in range(count)
        ]
    )


def test_the_connection_page_and_list_make_as_many_queries_for_many_runs(site, django_assert_num_queries):
    connection = site.connect()
    client = site.client()
    _runs(connection, 1, site.people.admin.user)
    url = site.conn_url("connection", connection)
    few, listing = _queries(client, url), _queries(client, site.url("connections"))
    _runs(connection, 25, site.people.admin.user)
    site.connect("test")
    with django_assert_num_queries(few):
        response = client.get(url)
    assert len(page(response).find("table", class_="table review-table erp-runs").find_all("tr")) == 21
    assert page(response).has("a", href="?page=2")
    with django_assert_num_queries(listing):
        client.get(site.url("connections"))


def test_the_run_page_makes_as_many_queries_for_many_entries_and_calls(site, django_assert_num_queries):
    connection = site.connect()
    run = SyncRun.objects.create(
        connection=connection,
        tenant=connection.tenant,
        kind=RunKind.FORCE,
        state=RunState.SUCCEEDED,
        requested_by=site.people.admin.user,
    )

    def log(count):
        SyncLogEntry.objects.bulk_create(
            [
                SyncLogEntry(
                    run=run,
                    connection=connection,
                    kind=LogKind.CHANGE,
                    direction=Direction.TO_CRM,
                    actor_type="Customer",
                    erp_key=f"C{i}",
                    crm_id=i,
                    field="Name",
                    old_value="a",
                    new_value="b",
                )
                for i in range(count)
            ]
        )
        IntegrationCall.objects.bulk_create(
            [
                IntegrationCall(
                    app=connection.app,
                    tenant=connection.tenant,
                    connection=connection,
                    run=run,
                    target=CallTarget.CONNECTOR,
                    operation="GetActors",
                    status_code=200,
                )
                for _ in range(count)
            ]
        )

    client = site.client()
    url = site.conn_url("run", connection, run.pk)
    log(1)
    few = _queries(client, url)
    log(3)
    many = _queries(client, url)
    log(60)  # two pages of entries, three of calls
    with django_assert_num_queries(many):
        response = client.get(url)
    shown = page(response)
    assert len(shown.find("table", class_="table review-table erp-log").find("tbody").find_all("tr")) == 50
    assert len(shown.find("table", class_="table review-table erp-calls").find("tbody").find_all("tr")) == 25
    assert shown.has("a", href="?calls=2") and shown.has("a", href="?page=2")
    assert few == many


def _change(run, connection, field: str, old: str, new: str, direction=Direction.TO_CRM) -> SyncLogEntry:
    return SyncLogEntry(run=run, connection=connection, kind=LogKind.CHANGE, direction=direction,
                        actor_type="Customer", erp_key="C1", crm_id=1, field=field, old_value=old,
                        new_value=new)


def _finished_run(site, connection) -> SyncRun:
    return SyncRun.objects.create(connection=connection, tenant=connection.tenant, kind=RunKind.FORCE,
                                  state=RunState.SUCCEEDED, requested_by=site.people.admin.user)


def test_the_run_log_names_the_crm_list_items_behind_the_ids_from_the_connections_pairs(site, erp_world):
    connection = site.connect()
    norway = connection.list_mappings.get(erp_list="Countries", erp_key="NO")
    sweden = connection.list_mappings.get(erp_list="Countries", erp_key="SE")
    norway.crm_name = "Norge"  # the CRM's own name for its item
    norway.save(update_fields=["crm_name"])
    sweden.crm_name = ""  # not known: the ERP item paired with it names it
    sweden.save(update_fields=["crm_name"])
    # Another tenant's connection pairs the same CRM ids with other names: they are not used.
    other = Site(erp_world, OTHER).connect()
    other.list_mappings.filter(crm_id__in=[norway.crm_id, sweden.crm_id]).update(crm_name="Elsewhere")
    run = _finished_run(site, connection)
    SyncLogEntry.objects.bulk_create([
        _change(run, connection, "Country", str(sweden.crm_id), str(norway.crm_id)),
        _change(run, connection, "Country", "", str(norway.crm_id)),
        _change(run, connection, "Number1", str(norway.crm_id), "77"),  # not a list field: as it is
        _change(run, connection, "Country", "SE", "NO", direction=Direction.TO_ERP),  # ERP keys: as they are
    ])

    shown = page(site.client().get(site.conn_url("run", connection, run.pk)))

    rows = shown.find("table", class_="table review-table erp-log").find("tbody").find_all("tr")
    assert [row.find("td", data_label="Old → new").text for row in rows] == [
        f"{sweden.crm_id} (Sweden) → {norway.crm_id} (Norge)",
        f"(blank) → {norway.crm_id} (Norge)",
        f"{norway.crm_id} → 77",
        "SE → NO",
    ]
    assert "Elsewhere" not in shown.text


def test_naming_list_items_in_the_run_log_takes_one_query_for_many_entries(site, django_assert_num_queries):
    connection = site.connect()
    items = list(connection.list_mappings.filter(crm_id__isnull=False))
    run = _finished_run(site, connection)
    client = site.client()
    url = site.conn_url("run", connection, run.pk)
    plain = _change(run, connection, "Name", "a", "b")
    plain.save()
    without = _queries(client, url)

    SyncLogEntry.objects.bulk_create([_change(run, connection, "Country", str(items[0].crm_id),
                                              str(items[1].crm_id))])
    one = _queries(client, url)
    SyncLogEntry.objects.bulk_create([_change(run, connection, "Country", str(a.crm_id), str(b.crm_id))
                                      for a, b in zip(items, items[1:], strict=False)])
    with django_assert_num_queries(one):
        response = client.get(url)
    assert one == without + 1
    assert page(response).find("table", class_="table review-table erp-log").text.count("(") >= 2 * (
        len(items) - 1)


def test_an_uninstalled_app_offers_no_new_connection(site):
    from provisioning.models import AuthorizationStatus

    connection = site.connect()
    site.authorization.status = AuthorizationStatus.REVOKED
    site.authorization.save(update_fields=["status"])
    client = site.client()
    listing = page(client.get(site.url("connections")))
    assert not listing.has("a", href=site.url("new"))
    assert "is not installed and approved for" in listing.find("main").text
    assert listing.has("a", href=site.conn_url("connection", connection))
    new = page(client.get(site.url("new"))).find("main")
    assert "Nothing can be set up for Acme ERP now." in new.text
    assert "Acme ERP is not authorized for this company (revoked)." in new.text


def test_a_run_is_found_only_under_its_own_connection(site):
    demo, test = site.connect(), site.connect("test", activate=False)
    run = SyncRun.objects.create(connection=demo, tenant=demo.tenant, kind=RunKind.FORCE)
    client = site.client()
    assert client.get(site.conn_url("run", demo, run.pk)).status_code == 200
    assert client.get(site.conn_url("run", test, run.pk)).status_code == 404
    assert client.get(site.conn_url("progress", test, run.pk)).status_code == 404
    assert client.get(site.conn_url("run", demo, run.pk), {"page": "x"}).status_code == 404
