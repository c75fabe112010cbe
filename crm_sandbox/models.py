"""The development CRM's own tables: per tenant, keyed by the environment code and context
identifier strings, since the sandbox knows the platform only over HTTP."""

from django.db import models


class SandboxTenant(models.Model):
    """One tenant's CRM database; created on the first authenticated call."""

    environment_code = models.CharField(max_length=16)
    context_identifier = models.CharField(max_length=40)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["environment_code", "context_identifier"],
                                               name="crm_sandbox_tenant_unique")]

    def __str__(self) -> str:
        return f"{self.environment_code}/{self.context_identifier}"


class ListName(models.TextChoices):
    COUNTRY = "country", "Country"
    CATEGORY = "category", "Category"
    BUSINESS = "business", "Business"
    POSITION = "position", "Position"


class ListItem(models.Model):
    """An item of one of the tenant's small lists (Country, Category, Business, Position);
    ``item_id`` is the Id the API shows, numbered per tenant and list."""

    tenant = models.ForeignKey(SandboxTenant, on_delete=models.CASCADE, related_name="list_items")
    list_name = models.CharField(max_length=16, choices=ListName.choices)
    item_id = models.PositiveIntegerField()
    name = models.CharField(max_length=80)
    code = models.CharField(max_length=8, blank=True)  # the ISO 3166 code of a country
    rank = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "list_name", "item_id"],
                                               name="crm_sandbox_list_item_unique")]
        ordering = ["rank", "item_id"]

    def __str__(self) -> str:
        return self.name


class TenantRow(models.Model):
    tenant = models.ForeignKey(SandboxTenant, on_delete=models.CASCADE, related_name="+")
    created_date = models.DateTimeField()
    updated_date = models.DateTimeField()

    class Meta:
        abstract = True


class Contact(TenantRow):
    name = models.CharField(max_length=220)
    department = models.CharField(max_length=220, blank=True)
    org_nr = models.CharField(max_length=40, blank=True)
    number1 = models.CharField(max_length=40, blank=True)
    number2 = models.CharField(max_length=40, blank=True)
    description = models.TextField(blank=True)
    # EntityElement arrays: [{"Value", "StrippedValue", "Description"}]
    phones = models.JSONField(default=list, blank=True)
    emails = models.JSONField(default=list, blank=True)
    urls = models.JSONField(default=list, blank=True)
    country = models.ForeignKey(ListItem, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    category = models.ForeignKey(ListItem, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    business = models.ForeignKey(ListItem, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        indexes = [models.Index(fields=["tenant", "updated_date"], name="crm_sb_contact_updated"),
                   models.Index(fields=["tenant", "name"], name="crm_sb_contact_name"),
                   models.Index(fields=["tenant", "org_nr"], name="crm_sb_contact_orgnr"),
                   models.Index(fields=["tenant", "number1"], name="crm_sb_contact_number1")]

    def __str__(self) -> str:
        return self.name


class Person(TenantRow):
    contact = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="persons")
    firstname = models.CharField(max_length=120, blank=True)
    middle_name = models.CharField(max_length=120, blank=True)
    lastname = models.CharField(max_length=120, blank=True)
    title = models.CharField(max_length=120, blank=True)
    emails = models.JSONField(default=list, blank=True)
    office_phones = models.JSONField(default=list, blank=True)
    mobile_phones = models.JSONField(default=list, blank=True)
    position = models.ForeignKey(ListItem, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        indexes = [models.Index(fields=["tenant", "updated_date"], name="crm_sb_person_updated"),
                   models.Index(fields=["tenant", "lastname", "firstname"], name="crm_sb_person_name"),
                   models.Index(fields=["tenant", "contact"], name="crm_sb_person_contact")]

    def __str__(self) -> str:
        return " ".join(part for part in (self.firstname, self.middle_name, self.lastname) if part)


class Pricelist(TenantRow):
    erp_pricelist_key = models.CharField(max_length=200, blank=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    currency = models.CharField(max_length=8, blank=True)
    currency_name = models.CharField(max_length=80, blank=True)
    valid_from = models.DateTimeField()
    valid_to = models.DateTimeField()
    is_active = models.BooleanField(default=True)

    class Meta:
        indexes = [models.Index(fields=["tenant", "updated_date"], name="crm_sb_pricelist_updated"),
                   models.Index(fields=["tenant", "name"], name="crm_sb_pricelist_name")]

    def __str__(self) -> str:
        return self.name


class Product(TenantRow):
    erp_product_key = models.CharField(max_length=200, blank=True)
    erp_pricelist_key = models.CharField(max_length=200, blank=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    code = models.CharField(max_length=80, blank=True)
    item_number = models.CharField(max_length=80, blank=True)
    price_unit = models.CharField(max_length=40, blank=True)
    quantity_unit = models.CharField(max_length=40, blank=True)
    unit_cost = models.FloatField(default=0)
    unit_list_price = models.FloatField(default=0)
    unit_minimum_price = models.FloatField(default=0)
    vat = models.FloatField(default=0)
    in_assortment = models.BooleanField(default=True)
    in_stock = models.FloatField(default=0)
    url = models.CharField(max_length=400, blank=True)

    class Meta:
        indexes = [models.Index(fields=["tenant", "updated_date"], name="crm_sb_product_updated"),
                   models.Index(fields=["tenant", "name"], name="crm_sb_product_name"),
                   models.Index(fields=["tenant", "erp_product_key"], name="crm_sb_product_erpkey")]

    def __str__(self) -> str:
        return self.name


class SaleStatus(models.TextChoices):
    OPEN = "Open"
    SOLD = "Sold"
    LOST = "Lost"
    STALLED = "Stalled"


class Sale(TenantRow):
    contact = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    person = models.ForeignKey(Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    heading = models.CharField(max_length=200)
    number = models.CharField(max_length=40, blank=True)
    sale_text = models.TextField(blank=True)
    amount = models.FloatField(default=0)
    saledate = models.DateTimeField()
    status = models.CharField(max_length=16, choices=SaleStatus.choices, default=SaleStatus.OPEN)
    probability = models.PositiveSmallIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["tenant", "updated_date"], name="crm_sb_sale_updated"),
                   models.Index(fields=["tenant", "heading"], name="crm_sb_sale_heading"),
                   models.Index(fields=["tenant", "contact"], name="crm_sb_sale_contact")]

    def __str__(self) -> str:
        return self.heading


class ChangeAction(models.TextChoices):
    INSERT = "insert"
    UPDATE = "update"
    DELETE = "delete"


class ChangeRecord(models.Model):
    """One row change; ``sequence`` only grows, so a reader resumes after the last one it saw."""

    sequence = models.BigAutoField(primary_key=True)
    tenant = models.ForeignKey(SandboxTenant, on_delete=models.CASCADE, related_name="+")
    table = models.CharField(max_length=16)
    row_id = models.BigIntegerField()
    action = models.CharField(max_length=8, choices=ChangeAction.choices)
    at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["tenant", "sequence"], name="crm_sb_change_seq"),
                   models.Index(fields=["tenant", "table", "sequence"], name="crm_sb_change_table_seq")]

    def __str__(self) -> str:
        return f"{self.sequence} {self.table} {self.row_id} {self.action}"
