"""Every process of the platform (web, worker, beat, management commands) shares one cache, so what
one forgets — a tenant's state API answer after a change — the others forget too."""

import subprocess
import sys
import uuid
from pathlib import Path

from django.core.cache import cache

ROOT = Path(__file__).resolve().parent.parent


def test_a_value_set_by_another_process_is_seen_here():
    key, value = f"probe-{uuid.uuid4().hex}", uuid.uuid4().hex
    subprocess.run(
        [sys.executable, "manage.py", "shell", "-c",
         f"from django.core.cache import cache; cache.set({key!r}, {value!r}, 60)"],
        cwd=ROOT, check=True, capture_output=True, timeout=120)
    try:
        assert cache.get(key) == value
    finally:
        cache.delete(key)
