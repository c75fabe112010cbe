"""The ERP sync section of the benchmark: which sections run, and the 1% change before the incremental run."""

import argparse

from bench import erp
from bench.run import SECTIONS, sections
from examples.erp_connector import store


def args(**given) -> argparse.Namespace:
    return argparse.Namespace(**{"only": None, "skip_login": False, "skip_erp": False, **given})


def test_every_section_runs_by_default_and_one_can_be_chosen_or_left_out():
    assert sections(args()) == set(SECTIONS) == {"store", "login", "erp"}
    assert sections(args(only="erp")) == {"erp"}
    assert sections(args(skip_erp=True)) == {"store", "login"}
    assert sections(args(skip_login=True, skip_erp=True)) == {"store"}


def test_one_record_in_a_hundred_changes_with_a_new_last_modified(tmp_path):
    db_path = tmp_path / "erp.sqlite3"
    store.seed(db_path, customers=300, persons_per_customer=2, company_database=erp.COMPANY_DATABASE)
    store.seed(db_path, customers=300, persons_per_customer=2, company_database="other")
    conn = store.connect(db_path)
    before = dict(conn.execute("SELECT erp_key, last_modified FROM companies WHERE company_db = ?",
                               (erp.COMPANY_DATABASE,)).fetchall())
    world = erp.ErpBench(connection_id=0, authorization_id=0, connector_url="", db_path=db_path, actors=900,
                         customers=300, persons_per_customer=2)

    assert erp.change_share(world) == 9  # 900 actors

    changed = conn.execute("SELECT erp_key, last_modified, department FROM companies WHERE company_db = ? "
                           "AND department LIKE 'Changed %'", (erp.COMPANY_DATABASE,)).fetchall()
    assert len(changed) == 3
    assert all(row["last_modified"] > max(before.values()) for row in changed)
    persons = conn.execute("SELECT COUNT(*) FROM persons WHERE company_db = ? AND title LIKE 'Changed %'",
                           (erp.COMPANY_DATABASE,)).fetchone()[0]
    assert persons == 6
    untouched = conn.execute("SELECT COUNT(*) FROM companies WHERE company_db = 'other' "
                             "AND department LIKE 'Changed %'").fetchone()[0]
    assert untouched == 0
    conn.close()
