"""deploy/kubernetes: the kustomize base and overlay, rendered by a real kustomize
(``kubectl kustomize``) and every object validated offline against the Kubernetes
schemas (kubernetes-validate); the catalogue's KubeRay RayJob checked by structure
(no schema for KubeRay's custom resource ships), its pod templates by the core schema.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from app.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
KUBERNETES = ROOT / "deploy" / "kubernetes"
VERSION = kubernetes_validate.latest_version()
POD_LABELS = {"app.kubernetes.io/name": "music-emotion", "app.kubernetes.io/component": "api"}


def render(folder: Path) -> list[dict]:
    """The objects ``kubectl kustomize`` makes of ``folder``."""
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl (with its built-in kustomize) is not installed")
    result = subprocess.run([kubectl, "kustomize", str(folder)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def by_kind(objects: list[dict]) -> dict[str, dict]:
    kinds = {o["kind"]: o for o in objects}
    assert len(kinds) == len(objects), "one object of each kind"
    return kinds


@pytest.fixture(scope="module")
def base() -> dict[str, dict]:
    return by_kind(render(KUBERNETES / "base"))


@pytest.mark.parametrize("folder", ["base", "overlays/example"])
def test_every_object_is_valid_against_the_kubernetes_schemas(folder):
    objects = render(KUBERNETES / folder)
    assert {o["kind"] for o in objects} == {
        "ConfigMap",
        "Deployment",
        "Service",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
    }
    for obj in objects:
        kubernetes_validate.validate(obj, VERSION, strict=True)
        assert obj["metadata"]["labels"]["app.kubernetes.io/name"] == "music-emotion"


def test_deployment_probes_the_health_routes(base):
    (container,) = base["Deployment"]["spec"]["template"]["spec"]["containers"]
    assert container["livenessProbe"]["httpGet"]["path"] == "/v2/health/live"
    assert container["readinessProbe"]["httpGet"]["path"] == "/v2/health/ready"
    assert container["ports"][0]["containerPort"] == 8000


def test_cpu_matches_the_analysis_processes(base):
    (container,) = base["Deployment"]["spec"]["template"]["spec"]["containers"]
    default = str(Settings.model_fields["analysis_processes"].default)
    processes = base["ConfigMap"]["data"].get("MUSIC_EMOTION_ANALYSIS_PROCESSES", default)
    assert container["resources"]["requests"]["cpu"] == processes
    assert container["resources"]["limits"]["cpu"] == processes
    config = base["ConfigMap"]["metadata"]["name"]
    assert container["envFrom"] == [{"configMapRef": {"name": config}}]


def test_pod_runs_locked_down_with_an_emptydir_for_tmp(base):
    pod = base["Deployment"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert container["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
    }
    (mount,) = container["volumeMounts"]
    assert mount["mountPath"] == "/tmp"
    assert next(v for v in pod["volumes"] if v["name"] == mount["name"])["emptyDir"] is not None


def test_service_hpa_and_pdb_select_the_deployment(base):
    deployment = base["Deployment"]
    assert POD_LABELS.items() <= deployment["spec"]["template"]["metadata"]["labels"].items()
    assert deployment["spec"]["selector"]["matchLabels"] == POD_LABELS
    assert base["Service"]["spec"]["selector"] == POD_LABELS
    assert base["PodDisruptionBudget"]["spec"]["selector"]["matchLabels"] == POD_LABELS
    target = base["HorizontalPodAutoscaler"]["spec"]["scaleTargetRef"]
    assert (target["kind"], target["name"]) == ("Deployment", deployment["metadata"]["name"])


def test_catalogue_rayjob_is_well_formed():
    path = KUBERNETES / "catalogue" / "rayjob.yaml"
    if not path.exists():
        pytest.skip("the catalogue's RayJob is not there yet")
    job = yaml.safe_load(path.read_text())
    assert (job["apiVersion"], job["kind"]) == ("ray.io/v1", "RayJob")
    spec = job["spec"]
    assert spec["entrypoint"].startswith("music-emotion catalogue ")
    cluster = spec["rayClusterSpec"]
    groups = [cluster["headGroupSpec"], *cluster["workerGroupSpecs"]]
    for group in cluster["workerGroupSpecs"]:
        assert group["groupName"] and group["replicas"] >= 1
    for group in groups:
        template = {"apiVersion": "v1", "kind": "PodTemplate", "metadata": {"name": "ray"}}
        kubernetes_validate.validate({**template, "template": group["template"]}, VERSION, True)
