"""`cdk synth` / `cdk deploy` entry point (cdk.json): the stacks of fabrknt_aws.stacks.

The application's facts (Celery queues, edge paths) are read from its own settings and
modules, so Django is set up first, with development settings: they describe the code,
not a deployment, and need no secret.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parents[1])]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fabrknt.settings")
os.environ.setdefault("DJANGO_ENV", "development")

import aws_cdk as cdk  # noqa: E402
import django  # noqa: E402

django.setup()

from fabrknt_aws.app_facts import app_facts  # noqa: E402
from fabrknt_aws.stacks import build_app  # noqa: E402

from fabrknt.ops.alarms import ALARMS  # noqa: E402

app = cdk.App()
build_app(
    app,
    facts=app_facts(),
    thresholds=ALARMS,
    size=app.node.try_get_context("size") or "small",
    region=app.node.try_get_context("region") or "us-east-1",
    dr_region=app.node.try_get_context("drRegion") or "us-west-2",
)
app.synth()
