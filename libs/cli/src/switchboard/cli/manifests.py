"""The generated part of `deploy/k8s/base`: a `KafkaTopic` for every topic of the registry (and its
dead-letter twin), and for every service its Deployment, Service, PodDisruptionBudget, KEDA
`ScaledObject` and network policy, all derived from the code (ports from the settings, consumer
groups and topics from the subscriptions). `make docs` writes them; a test fails when the
committed files no longer match.

    python -m switchboard.cli.manifests deploy/k8s/base
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml

from switchboard.cli.services import SERVICES, subscriptions
from switchboard.common.broker import consumer_group
from switchboard.common.settings import Settings
from switchboard.common.topics import REGISTRY, Topic

CLUSTER = "switchboard"
BOOTSTRAP = f"{CLUSTER}-kafka-bootstrap:9092"
PART_OF = {"app.kubernetes.io/part-of": "switchboard"}
LAG_THRESHOLD = "50"
PROBE_TIMEOUT_SECONDS = 3
"""How long Kubernetes waits for /healthz before it counts a probe as failed."""
"""Messages of lag per replica before KEDA adds one."""
SINGLE_ACTIVE = {"routing"}
"""Services that run as one active process: routing's ACD needs the whole centre in view.
(Dispatch scales: its replicas take turns per tenant for each despatch decision.)"""
PUBLIC = {"desktop", "intake"}
"""Services reached from outside the namespace (agents' browsers, channel systems)."""
SENDS_MAIL = {"desktop", "dispatch"}
RESOURCES = {
    "requests": {"cpu": "100m", "memory": "192Mi"},
    "limits": {"cpu": "1", "memory": "512Mi"},
}


def resource_name(topic: str) -> str:
    """A Kubernetes name for a topic (names allow dots but not underscores)."""
    return topic.replace("_", "-")


def kafka_topic(name: str, topic: Topic) -> dict[str, Any]:
    config: dict[str, Any] = {"retention.ms": topic.retention_ms}
    if topic.compacted:
        config["cleanup.policy"] = "compact"
    return {
        "apiVersion": "kafka.strimzi.io/v1beta2",
        "kind": "KafkaTopic",
        "metadata": {"name": resource_name(name), "labels": {"strimzi.io/cluster": CLUSTER}},
        "spec": {
            "topicName": name,
            "partitions": topic.partitions,
            "replicas": 1,
            "config": config,
        },
    }


def topics() -> list[dict[str, Any]]:
    return [kafka_topic(name, t) for t in REGISTRY for name in (t.name, t.dlq)]


def _labels(service: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": "switchboard", "app.kubernetes.io/component": service}


def max_replicas(service: str) -> int:
    """No more replicas than the smallest partition count among the topics the service consumes:
    a replica beyond that would sit idle on that topic."""
    if service in SINGLE_ACTIVE:
        return 1
    return min(t.partitions for t in subscriptions(service).topics)


def deployment(service: str, port: int) -> dict[str, Any]:
    probe = {
        "httpGet": {"path": "/healthz", "port": "http"},
        "periodSeconds": 10,
        "timeoutSeconds": PROBE_TIMEOUT_SECONDS,
    }
    container: dict[str, Any] = {
        "name": service,
        "image": "switchboard",
        "command": ["switchboard", "service", service],
        "ports": [{"name": "http", "containerPort": port}],
        "env": [{"name": "SWITCHBOARD_SERVICE", "value": service}],
        "envFrom": [
            {"configMapRef": {"name": "switchboard-config"}},
            {"secretRef": {"name": "switchboard-database"}},
        ],
        "startupProbe": {**probe, "failureThreshold": 30},
        "readinessProbe": probe,
        "livenessProbe": {**probe, "failureThreshold": 3},
        "resources": RESOURCES,
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        },
        "volumeMounts": [
            {"name": "var", "mountPath": "/var/lib/switchboard"},
            {"name": "tmp", "mountPath": "/tmp"},
        ],
    }
    if service == "intake":
        container["ports"].append({"name": "smtp", "containerPort": Settings().smtp_port})
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": f"switchboard-{service}", "labels": _labels(service)},
        "spec": {
            "replicas": 1,
            "strategy": {"type": "Recreate"}
            if service in SINGLE_ACTIVE
            else {"type": "RollingUpdate"},
            "selector": {"matchLabels": _labels(service)},
            "template": {
                "metadata": {"labels": {**_labels(service), **PART_OF}},
                "spec": {
                    "automountServiceAccountToken": False,
                    "securityContext": {
                        "runAsNonRoot": True,
                        "runAsUser": 10001,
                        "runAsGroup": 10001,
                        "fsGroup": 10001,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "terminationGracePeriodSeconds": 30,
                    "containers": [container],
                    "volumes": [{"name": "var", "emptyDir": {}}, {"name": "tmp", "emptyDir": {}}],
                },
            },
        },
    }


def service_object(service: str, port: int) -> dict[str, Any]:
    ports = [{"name": "http", "port": port, "targetPort": "http"}]
    if service == "intake":
        ports.append({"name": "smtp", "port": Settings().smtp_port, "targetPort": "smtp"})
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": f"switchboard-{service}", "labels": _labels(service)},
        "spec": {"selector": _labels(service), "ports": ports},
    }


def disruption_budget(service: str) -> dict[str, Any]:
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": f"switchboard-{service}", "labels": _labels(service)},
        "spec": {"maxUnavailable": 1, "selector": {"matchLabels": _labels(service)}},
    }


def scaled_object(service: str) -> dict[str, Any]:
    return {
        "apiVersion": "keda.sh/v1alpha1",
        "kind": "ScaledObject",
        "metadata": {"name": f"switchboard-{service}", "labels": _labels(service)},
        "spec": {
            "scaleTargetRef": {"name": f"switchboard-{service}"},
            "minReplicaCount": 1,
            "maxReplicaCount": max_replicas(service),
            "cooldownPeriod": 300,
            "triggers": [
                {
                    "type": "kafka",
                    "metadata": {
                        "bootstrapServers": BOOTSTRAP,
                        "consumerGroup": consumer_group(service),
                        "lagThreshold": LAG_THRESHOLD,
                        "offsetResetPolicy": "earliest",
                        "allowIdleConsumers": "false",
                    },
                }
            ],
        },
    }


def network_policy(service: str, port: int) -> dict[str, Any]:
    """Ingress on the service's own ports (from anywhere for the public ones, else from this
    namespace and monitoring); egress only to the broker, the database, DNS, the trace collector,
    for those that send mail the SMTP relay, for the desktop recording's and the catalogue's APIs
    (the quality, product and knowledge pages), and for the catalogue HTTPS (the credit bureau and
    the payment provider)."""
    ports = [{"protocol": "TCP", "port": port}]
    if service == "intake":
        ports.append({"protocol": "TCP", "port": Settings().smtp_port})
    sources: list[dict[str, Any]] = [
        {"podSelector": {}},
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}},
    ]
    ingress = [{"ports": ports}] if service in PUBLIC else [{"from": sources, "ports": ports}]
    egress: list[dict[str, Any]] = [
        {
            "to": [{"podSelector": {"matchLabels": {"strimzi.io/cluster": CLUSTER}}}],
            "ports": [{"protocol": "TCP", "port": 9092}],
        },
        {"ports": [{"protocol": "TCP", "port": 5432}]},
        {
            "to": [
                {"namespaceSelector": {}, "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}
            ],
            "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
        },
        {"ports": [{"protocol": "TCP", "port": 4318}]},
    ]
    if service == "desktop":
        egress += [
            {
                "to": [{"podSelector": {"matchLabels": _labels(asked)}}],
                "ports": [{"protocol": "TCP", "port": Settings().port_of(asked)}],
            }
            for asked in ("recording", "catalogue")
        ]
    if service in ("catalogue", "intake"):  # the bureau and payments; the PBX and SMS webhooks
        egress.append({"ports": [{"protocol": "TCP", "port": 443}]})
    if service in SENDS_MAIL:
        egress.append(
            {"ports": [{"protocol": "TCP", "port": 25}, {"protocol": "TCP", "port": 587}]}
        )
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": f"switchboard-{service}", "labels": _labels(service)},
        "spec": {
            "podSelector": {"matchLabels": _labels(service)},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": ingress,
            "egress": egress,
        },
    }


def services() -> list[dict[str, Any]]:
    settings, found = Settings(), []
    for service in SERVICES:
        port = settings.port_of(service)
        found += [
            deployment(service, port),
            service_object(service, port),
            disruption_budget(service),
            scaled_object(service),
        ]
    return found


def network_policies() -> list[dict[str, Any]]:
    settings = Settings()
    return [network_policy(s, settings.port_of(s)) for s in SERVICES]


HEADER = "# Generated by `make docs` (switchboard.cli.manifests) from the code: do not edit.\n"


def render() -> dict[str, str]:
    """File name → content."""
    return {
        name: HEADER + yaml.safe_dump_all(objects, sort_keys=False)
        for name, objects in (
            ("topics.yaml", topics()),
            ("services.yaml", services()),
            ("network-policies.yaml", network_policies()),
        )
    }


def main() -> None:
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "deploy/k8s/base")
    target.mkdir(parents=True, exist_ok=True)
    for name, text in render().items():
        (target / name).write_text(text, encoding="utf-8")
        print(f"wrote {target / name}")


if __name__ == "__main__":
    main()
