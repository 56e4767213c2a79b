"""The CDK app, synthesized once per test session (about 15-30 s and 0.5-1 GB)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
# jsii's banner about the machine's Node.js 20 (end of life for jsii), printed on every
# start of its runtime; the variable lists the major versions to keep quiet about.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")


@pytest.fixture(scope="session")
def stacks():
    import aws_cdk as cdk
    from aws_cdk.assertions import Template
    from fabrknt_aws.app_facts import app_facts
    from fabrknt_aws.stacks import build_app

    from fabrknt.ops.alarms import ALARMS

    app = cdk.App()
    main, replica = build_app(app, facts=app_facts(), thresholds=ALARMS)
    return Template.from_stack(main), Template.from_stack(replica)


@pytest.fixture(scope="session")
def template(stacks):
    return stacks[0]


@pytest.fixture(scope="session")
def replica_template(stacks):
    return stacks[1]
