"""Apps that exist before the client-ID registry get their clients and configuration 1.0."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("appstore", "0008_app_name_key_unique"), ("audit", "0001_initial")]
AFTER = [("appstore", "0011_app_template_fields_moved"), ("audit", "0002_entry_target")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def test_existing_apps_get_clients_and_their_template_defaults_as_configuration_1_0(reference_data):
    old = migrate(BEFORE)
    Partner = old.get_model("appstore", "Partner")
    App = old.get_model("appstore", "App")
    partner = Partner.objects.create(name="Old Partner", seo_name="old-partner")
    App.objects.create(partner=partner, name="Old App", name_key="old app", seo_name="old-app",
                       template="erp", api_endpoints=["WebAPI", "Services88"],
                       agents=["ErpSync", "Webhook"], claims=["SystemToken"],
                       redirect_urls="https://old.example/cb\n", erp_endpoint_url="https://old.example/erp",
                       quote_endpoint_url="")

    new = migrate(AFTER)
    app = new.get_model("appstore", "App").objects.get(name="Old App")
    clients = new.get_model("appstore", "AppClient").objects.filter(app=app)
    assert sorted(clients.values_list("environment__code", flat=True)) == ["online", "sod", "stage"]
    assert all(len(c.client_id) == 32 for c in clients)
    config = new.get_model("appstore", "ConfigurationVersion").objects.get(app=app)
    assert (config.label, config.state, config.environment.code) == ("1.0", "published", "sod")
    assert (config.api_endpoints, config.agents, config.claims) == (
        ["WebAPI", "Services88"], ["ErpSync", "Webhook"], ["SystemToken"])
    assert config.redirect_urls == {"all": ["https://old.example/cb"]}
    assert config.endpoints["erp_sync"]["url"] == "https://old.example/erp"
    assert "quote" not in config.endpoints
    migrate(executor_leaf_nodes())


def executor_leaf_nodes():
    executor = MigrationExecutor(connection)
    return executor.loader.graph.leaf_nodes()
