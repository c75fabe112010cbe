"""A real Celery worker in this process, taking its tasks from Redis."""

import pytest
from celery.contrib.testing.worker import start_worker

from config.celery import app as celery_app


@pytest.fixture
def real_worker():
    celery_app.conf.task_always_eager = False
    with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
        yield
