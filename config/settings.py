"""Settings, driven by environment variables.

With nothing set the platform runs on an embedded default: SQLite and a file-system
Celery broker under ``var/``, and a development secret key generated once into ``var/``.
"""

import hashlib
import hmac
import os
import secrets
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def _development_secret_key() -> str:
    key_file = VAR_DIR / "dev-secret-key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


# The embedded default: no SECRET_KEY given, so this is a developer's machine (make run, tests).
EMBEDDED_DEFAULT = "SECRET_KEY" not in os.environ
DEBUG = env_bool("DEBUG", default=EMBEDDED_DEFAULT)
SECRET_KEY = os.environ.get("SECRET_KEY") or _development_secret_key()

PORT = int(os.environ.get("PORT", "8000"))
SITE_URL = os.environ.get("SITE_URL", f"http://127.0.0.1:{PORT}").rstrip("/")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", SITE_URL)
CSRF_FAILURE_VIEW = "config.views.csrf_failure"  # the site's own 403_csrf.html, not Django's bare page

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "django.contrib.postgres",
    "allauth",
    "allauth.account",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "django_celery_beat",
    "crm_sandbox",
    "accounts",
    "audit",
    "tenants",
    "appstore",
    "oauth2_provider",
    "provisioning",
    "integrations",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "appstore.context_processors.portal",
                "provisioning.context_processors.customer",
            ],
        },
    },
]

# Database: PostgreSQL from DATABASE_URL, else SQLite under var/.
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USING_POSTGRES = DATABASES["default"]["ENGINE"].endswith("postgresql")
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # Web, worker and beat share the file: a writer waits for the lock instead of failing at once.
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}

# Redis as broker and cache when REDIS_URL is set; otherwise a broker that needs no server.
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                          "LOCATION": REDIS_URL}}
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS: dict = {}
else:
    # Files under var/: web, worker, beat and management commands share one cache, so a tenant
    # changed by the worker or the command line is forgotten for the web process too.
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                          "LOCATION": str(VAR_DIR / "cache")}}
    _broker_dir = VAR_DIR / "broker"
    for _sub in ("queue", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
CELERY_TASK_IGNORE_RESULT = not REDIS_URL
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = "UTC"
# Periodic work; the database scheduler copies these entries into django-celery-beat's tables.
CELERY_BEAT_SCHEDULE = {
    "clear-expired-login-credentials": {
        "task": "provisioning.tasks.clear_expired_credentials",
        "schedule": 3600.0,
    },
    # A notification whose next attempt was lost (a worker stopped mid-way) is queued again.
    "resume-stalled-notifications": {
        "task": "provisioning.tasks.resume_stalled_notifications",
        "schedule": 300.0,
    },
}

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# django-allauth: email is the login.
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = os.environ.get("ACCOUNT_EMAIL_VERIFICATION", "optional")
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_SIGNUP_FORM_CLASS = "accounts.forms.NameSignupForm"
ACCOUNT_ADAPTER = "appstore.adapters.AccountAdapter"
LOGIN_REDIRECT_URL = "/portal/"
LOGIN_URL = "/accounts/login/"

# E-mail: console unless an SMTP host is configured.
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "587"))
    EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "App Store <no-reply@localhost>")

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
# Serve uploaded media from Django unless a front server does (see README).
SERVE_MEDIA = env_bool("SERVE_MEDIA", True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# Uploads: refuse oversized bodies before they reach a view.
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
MAX_IMAGE_UPLOAD_BYTES = int(os.environ.get("MAX_IMAGE_UPLOAD_BYTES", 8 * 1024 * 1024))
# Pixel ceiling for any uploaded image (the largest allowed screenshot is 3840x2160).
MAX_IMAGE_PIXELS = 3840 * 2160

X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_HTTPONLY = True
SECURE_REFERRER_POLICY = "same-origin"
if SITE_URL.startswith("https://"):
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    # An https site sits behind a TLS-terminating proxy that says so in this header.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# The store shows listings published to this environment.
STORE_ENVIRONMENT = os.environ.get("STORE_ENVIRONMENT", "online")

# Local development only: sod integration endpoints may use http:// and localhost / private addresses
# (on by default on the embedded default, so the demo's reference partner service gets notifications).
ALLOW_PRIVATE_PARTNER_URLS = env_bool("ALLOW_PRIVATE_PARTNER_URLS", DEBUG or EMBEDDED_DEFAULT)

# Django's default password hashers, plus the fast salted hash for generated client secrets.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
    "appstore.hashers.ClientSecretHasher",
]

# The login service (OpenID Connect) is django-oauth-toolkit with its models swapped into
# provisioning, so every code and token carries the tenant authorization it was issued under.
OAUTH2_PROVIDER_APPLICATION_MODEL = "provisioning.LoginClient"
OAUTH2_PROVIDER_GRANT_MODEL = "provisioning.Grant"
OAUTH2_PROVIDER_ACCESS_TOKEN_MODEL = "provisioning.AccessToken"
OAUTH2_PROVIDER_REFRESH_TOKEN_MODEL = "provisioning.RefreshToken"
OAUTH2_PROVIDER_ID_TOKEN_MODEL = "provisioning.IDToken"
OAUTH2_PROVIDER = {
    "OIDC_ENABLED": True,
    "OAUTH2_VALIDATOR_CLASS": "provisioning.oidc.validator.LoginValidator",
    "ACCESS_TOKEN_GENERATOR": "provisioning.oidc.tokens.access_token",
    "REFRESH_TOKEN_GENERATOR": "oauthlib.oauth2.rfc6749.tokens.random_token_generator",
    "ACCESS_TOKEN_EXPIRE_SECONDS": 3600,
    "AUTHORIZATION_CODE_EXPIRE_SECONDS": 600,
    "ID_TOKEN_EXPIRE_SECONDS": 300,
    # Refresh tokens live as long as the authorization is active (checked on every use).
    "REFRESH_TOKEN_EXPIRE_SECONDS": None,
    "ROTATE_REFRESH_TOKEN": True,
    # A rotated refresh token presented again revokes its whole family (it may have been stolen).
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "PKCE_REQUIRED": False,
    "SCOPES": {"openid": "Sign you in"},
    "DEFAULT_SCOPES": ["openid"],
    # Tokens are stored only as checksums.
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
}
# Key that encrypts the login service's signing keys at rest (any string; derived to a Fernet key).
SIGNING_KEY_ENCRYPTION_KEY = os.environ.get("SIGNING_KEY_ENCRYPTION_KEY") or SECRET_KEY
# How long a retired signing key stays in the JWKS after rotation.
SIGNING_KEY_GRACE_SECONDS = int(os.environ.get("SIGNING_KEY_GRACE_SECONDS", 24 * 3600))

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "App platform API",
    "VERSION": "1.0.0",
    # Swagger UI's files come from the sidecar package, not a CDN: the docs work offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # One name per choice set that several fields share.
    "ENUM_NAME_OVERRIDES": {
        "ReviewStatusEnum": "appstore.models.ReviewStatus",
        "LinkKindEnum": "appstore.models.LinkKind",
        "ImageKindEnum": "appstore.models.ImageKind",
        "PublishRequestKindEnum": "appstore.api.filters.REQUEST_KIND_CHOICES",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact_secret_paths": {"()": "config.logging.RedactSecretPaths"},
                "one_line_forbidden": {"()": "config.logging.OneLineForbidden"}},
    "handlers": {"console": {"class": "logging.StreamHandler",
                             "filters": ["redact_secret_paths", "one_line_forbidden"]}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # Django's request and development-server lines go through the filtered root handler.
    "loggers": {"django": {"handlers": [], "propagate": True},
                "django.server": {"handlers": [], "propagate": True}},
}
FORMS_URLFIELD_ASSUME_HTTPS = True  # Django 6 behaviour now: a URL typed without a scheme is https

# Calls to partner URLs (provisioning.outbound). Loopback and private addresses are refused unless
# allowed, which DEBUG and the embedded default (no SECRET_KEY, as in make run) do, so the local
# reference partner service can be called.
OUTBOUND_ALLOW_PRIVATE_NETWORKS = env_bool("OUTBOUND_ALLOW_PRIVATE_NETWORKS", DEBUG or EMBEDDED_DEFAULT)
OUTBOUND_CONNECT_TIMEOUT = float(os.environ.get("OUTBOUND_CONNECT_TIMEOUT", "5"))
OUTBOUND_READ_TIMEOUT = float(os.environ.get("OUTBOUND_READ_TIMEOUT", "10"))
OUTBOUND_MAX_RESPONSE_BYTES = int(os.environ.get("OUTBOUND_MAX_RESPONSE_BYTES", 64 * 1024))
# State-change notifications: seconds before each retry of a failed delivery (attempts = retries + 1).
NOTIFICATION_RETRY_DELAYS = [int(s) for s in env_list("NOTIFICATION_RETRY_DELAYS", "30,120,480,1800,7200")]

# How many development (sod) tenants, not deleted, a partner may have asked for from the portal.
DEVELOPMENT_TENANTS_PER_PARTNER = int(os.environ.get("DEVELOPMENT_TENANTS_PER_PARTNER", "5"))

# Integration services (SPEC §10): seconds between attempts of a call that failed transiently,
# the largest answer read from a connector or a CRM API, and how long a run holds its lock
# without a sign of life before another run may take over.
INTEGRATION_RETRY_DELAYS = [float(x) for x in env_list("INTEGRATION_RETRY_DELAYS", "1,4")]
# A page an administrator waits on (setting a connection up) asks the connector once, this long.
INTEGRATION_SETUP_TIMEOUT = float(os.environ.get("INTEGRATION_SETUP_TIMEOUT", 5))
INTEGRATION_MAX_RESPONSE_BYTES = int(os.environ.get("INTEGRATION_MAX_RESPONSE_BYTES", 8 * 1024 * 1024))
INTEGRATION_LOCK_LEASE_SECONDS = int(os.environ.get("INTEGRATION_LOCK_LEASE_SECONDS", 120))

# The CRM sandbox (crm_sandbox, the development CRM): it introspects tokens at the login service
# of CRM_SANDBOX_LOGIN_URL as the resource server crm-sandbox-<env> with this secret.
CRM_SANDBOX_CLIENT_SECRET = os.environ.get("CRM_SANDBOX_CLIENT_SECRET") or hmac.new(
    SECRET_KEY.encode(), b"crm-sandbox-client-secret", hashlib.sha256).hexdigest()
CRM_SANDBOX_LOGIN_URL = os.environ.get("CRM_SANDBOX_LOGIN_URL", SITE_URL).rstrip("/")
# Its read-only pages: staff only, or every signed-in user in development.
CRM_SANDBOX_OPEN_VIEW = env_bool("CRM_SANDBOX_OPEN_VIEW", DEBUG or EMBEDDED_DEFAULT)
