"""aggregate_metrics, detect_bots, issue_certificate, verify_certificate, and their tasks."""

from __future__ import annotations

import base64
import datetime as dt
import json
import subprocess
import sys
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone
from nacl.signing import SigningKey

from trace.models import ActivityMetric, Click, GrowthCertificate, Project, WalletFlag
from trace.tasks import aggregate_metrics, detect_bots
from trace.tests.factories import ClickFactory, ContractInteractionFactory, ProjectFactory

pytestmark = pytest.mark.django_db

TODAY = dt.datetime.now(dt.UTC).date()
ROOT = Path(settings.BASE_DIR)


def run(*args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def project():
    project = ProjectFactory()
    ContractInteractionFactory(
        project=project,
        occurred_at=dt.datetime.combine(TODAY, dt.time(1), tzinfo=dt.UTC),
        value_usd=Decimal("3.00"),
    )
    return project


def test_aggregate_metrics_backfills_a_range(project):
    other = ProjectFactory()
    out, err = run(
        "aggregate_metrics",
        "--project",
        str(project.id),
        "--from",
        "2025-01-01",
        "--to",
        "2025-01-10",
    )
    assert "10 project-days written (2025-01-01 to 2025-01-10)" in out
    assert "1/1" in err  # the progress bar
    assert ActivityMetric.objects.filter(project=project).count() == 10
    assert not ActivityMetric.objects.filter(project=other).exists()
    run(
        "aggregate_metrics",
        "--project",
        str(project.id),
        "--from",
        "2025-01-01",
        "--to",
        "2025-01-10",
    )
    assert ActivityMetric.objects.filter(project=project).count() == 10


def test_aggregate_metrics_default_is_yesterday_and_today_for_every_project(project):
    ProjectFactory()
    out, _ = run("aggregate_metrics")
    assert "4 project-days written" in out
    today = ActivityMetric.objects.get(project=project, date=TODAY)
    assert (today.dau, today.transaction_volume_usd) == (1, Decimal("3.00"))


@pytest.mark.parametrize(
    "args",
    [
        ("--from", "2025-02-30"),
        ("--from", "2025-02-02", "--to", "2025-02-01"),
        ("--project", "nope"),
        ("--project", "2f1c5b8e-0000-4000-8000-000000000000"),
        ("--from", "0001-01-01"),  # was an OverflowError: rollups read 59 days earlier
        ("--from", "2025-01-01", "--to", "9999-12-31"),
    ],
)
def test_aggregate_metrics_refuses_bad_arguments(project, args):
    with pytest.raises(CommandError):
        run("aggregate_metrics", *args)
    assert ActivityMetric.objects.count() == 0


def test_aggregate_metrics_task(project):
    written = aggregate_metrics.delay(str(project.id), "2025-01-01", "2025-01-03").get()
    assert written == {"written": 3, "failed": {}}
    # yesterday and today, the one project
    assert aggregate_metrics.delay().get() == {"written": 2, "failed": {}}
    assert ActivityMetric.objects.filter(project=project, date=TODAY).get().dau == 1


def test_detect_bots_command_and_task():
    ClickFactory(user_agent="curl/8.5.0")
    out, _ = run("detect_bots")
    assert "click_user_agent: 1" in out
    assert Click.objects.get().bot_reason == "user_agent:curl"
    project = ProjectFactory()
    for n in range(5):
        ContractInteractionFactory(
            project=project,
            wallet_address=f"0x{0xF:040x}",
            from_address=f"0x{0xF:040x}",
            to_address=f"0x{100 + n:040x}",
            occurred_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=1, hours=n),
        )
    counts = detect_bots.delay(str(project.id)).get()
    assert counts["wallet_common_funder"] == 5
    assert WalletFlag.objects.filter(project=project).count() == 5
    with pytest.raises(CommandError):
        run("detect_bots", "--project", "nope")


@pytest.fixture
def certificate_file(project, tmp_path) -> Path:
    path = tmp_path / "certificate.json"
    _, err = run("issue_certificate", str(project.id), "--out", str(path))
    assert "written to" in err
    return path


def test_issue_certificate_to_stdout(project):
    out, _ = run("issue_certificate", str(project.id), "--from", str(TODAY), "--to", str(TODAY))
    document = json.loads(out)
    assert document["certificate"]["metrics"]["transaction_volume_usd"] == "3.00"
    assert GrowthCertificate.objects.count() == 1


@pytest.mark.parametrize(
    "args",
    [
        ("nope",),
        ("2f1c5b8e-0000-4000-8000-000000000000",),
        ("{project}", "--to", "2999-01-01"),
        ("{project}", "--from", "0001-01-01", "--to", "0001-01-02"),
    ],
)
def test_issue_certificate_refuses_bad_arguments(project, args):
    args = [a.format(project=project.id) for a in args]
    with pytest.raises(CommandError):
        run("issue_certificate", *args)
    assert GrowthCertificate.objects.count() == 0


def test_verify_certificate_ok_and_tampered(certificate_file):
    out, _ = run("verify_certificate", str(certificate_file))
    assert out.startswith("VALID: signed by key ")

    document = json.loads(certificate_file.read_text())
    document["certificate"]["metrics"]["mau"] = 5000
    certificate_file.write_text(json.dumps(document))
    with pytest.raises(CommandError, match="INVALID: the signature does not match"):
        run("verify_certificate", str(certificate_file))


def test_verify_certificate_with_an_explicit_public_key(certificate_file):
    seed = base64.b64decode(settings.CERTIFICATE_SIGNING_KEY)
    public = base64.b64encode(bytes(SigningKey(seed).verify_key)).decode()
    out, _ = run("verify_certificate", str(certificate_file), "--public-key", public)
    assert out.startswith("VALID")
    stranger = base64.b64encode(bytes(SigningKey.generate().verify_key)).decode()
    with pytest.raises(CommandError, match="unknown key id"):
        run("verify_certificate", str(certificate_file), "--public-key", stranger)
    with pytest.raises(CommandError, match="base64"):
        run("verify_certificate", str(certificate_file), "--public-key", "%%%")


def test_verify_certificate_unreadable_files(tmp_path):
    with pytest.raises(CommandError, match="cannot read"):
        run("verify_certificate", str(tmp_path / "missing.json"))
    garbage = tmp_path / "garbage.json"
    garbage.write_text("{not json")
    with pytest.raises(CommandError, match="not JSON"):
        run("verify_certificate", str(garbage))
    wrong_shape = tmp_path / "list.json"
    wrong_shape.write_text("[1, 2]")
    with pytest.raises(CommandError, match="not a certificate document"):
        run("verify_certificate", str(wrong_shape))


def test_verify_certificate_exit_codes_offline(certificate_file):
    """As it runs from a checkout: a separate process, no database, exit 0 or 1."""
    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_ENV": "development",
        "CERTIFICATE_SIGNING_KEY": settings.CERTIFICATE_SIGNING_KEY,
    }
    command = [sys.executable, str(ROOT / "manage.py"), "verify_certificate"]
    ok = subprocess.run(
        [*command, str(certificate_file)], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert ok.returncode == 0, ok.stderr
    assert "VALID" in ok.stdout
    document = json.loads(certificate_file.read_text())
    document["signature"] = base64.b64encode(b"\0" * 64).decode()
    certificate_file.write_text(json.dumps(document))
    bad = subprocess.run(
        [*command, str(certificate_file)], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert bad.returncode == 1
    assert "INVALID: the signature does not match the certificate" in bad.stderr


def _refuse_metrics_of(project) -> None:
    """The database refuses to store this project's metrics (a trigger the test's
    transaction rolls back): a real failure inside one project's rollup."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "CREATE FUNCTION pg_temp.refuse_metric() RETURNS trigger AS $$ BEGIN "
                f"IF NEW.project_id = '{project.id}' THEN "
                "RAISE EXCEPTION 'refused by the test trigger'; END IF; RETURN NEW; END "
                "$$ LANGUAGE plpgsql"
            )
            cursor.execute(
                "CREATE TRIGGER refuse_metric BEFORE INSERT OR UPDATE ON trace_activitymetric "
                "FOR EACH ROW EXECUTE FUNCTION pg_temp.refuse_metric()"
            )
        else:
            cursor.execute(
                "CREATE TRIGGER refuse_metric BEFORE INSERT ON trace_activitymetric "
                f"WHEN NEW.project_id = '{project.id.hex}' "
                "BEGIN SELECT RAISE(ABORT, 'refused by the test trigger'); END"
            )


@pytest.fixture
def broken_then_healthy():
    """Two projects, the failing one first (projects are computed oldest first)."""
    broken, healthy = ProjectFactory(), ProjectFactory()
    Project.objects.filter(pk=broken.pk).update(created_at=timezone.now() - dt.timedelta(days=1))
    ContractInteractionFactory(
        project=healthy,
        occurred_at=dt.datetime.combine(TODAY, dt.time(1), tzinfo=dt.UTC),
        value_usd=Decimal("3.00"),
    )
    _refuse_metrics_of(broken)
    return broken, healthy


def test_aggregate_metrics_computes_the_others_when_one_project_fails(broken_then_healthy, caplog):
    """Regression (issue 7): one project's failure stopped the command for every later one."""
    broken, healthy = broken_then_healthy
    out = StringIO()

    with pytest.raises(CommandError) as error:
        call_command(
            "aggregate_metrics", "--from", str(TODAY), "--to", str(TODAY),
            stdout=out, stderr=StringIO(),
        )  # fmt: skip

    # manage.py prints a CommandError and exits with its return code.
    assert (str(error.value), error.value.returncode) == (
        "1 project(s) failed; the others are computed",
        1,
    )
    assert "1 project-days written" in out.getvalue()
    assert f"project {broken.id} failed: " in out.getvalue()
    assert "refused by the test trigger" in out.getvalue()
    assert list(
        ActivityMetric.objects.values_list("project", "date", "dau", "transaction_volume_usd")
    ) == [(healthy.id, TODAY, 1, Decimal("3.00"))]
    assert f"metrics of project {broken.id} failed" in caplog.text


def test_the_daily_task_reports_a_failing_project_and_computes_the_others(broken_then_healthy):
    broken, healthy = broken_then_healthy

    outcome = aggregate_metrics.delay().get()

    assert outcome["written"] == 2  # the healthy project's yesterday and today
    assert list(outcome["failed"]) == [str(broken.id)]
    assert "refused by the test trigger" in outcome["failed"][str(broken.id)]
    assert ActivityMetric.objects.filter(project=healthy).count() == 2
    assert not ActivityMetric.objects.filter(project=broken).exists()
