"""Open Inference Protocol model metadata: ``/v2/models/{name}``."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field

from app.api.deps import AnalyzerDep

router = APIRouter(prefix="/v2/models", tags=["models"])


class TensorMetadata(BaseModel):
    """One input or output tensor."""

    name: str
    datatype: str = Field(examples=["FP32"])
    shape: list[int] = Field(
        description="-1 marks the batch (window) axis.", examples=[[-1, 20, 200]]
    )


class ModelMetadata(BaseModel):
    """What the model is and what it reads and returns."""

    name: str = Field(examples=["music-emotion"])
    versions: list[str] = Field(examples=[["0.1.0"]])
    platform: str = Field("onnxruntime_onnx")
    inputs: list[TensorMetadata]
    outputs: list[TensorMetadata]


class ModelReady(BaseModel):
    """Readiness of one model."""

    name: str
    ready: bool


def _tensors(entries: list[dict]) -> list[TensorMetadata]:
    return [
        TensorMetadata(
            name=e["name"],
            datatype="FP32",
            shape=[d if isinstance(d, int) else -1 for d in e["shape"]],
        )
        for e in entries
    ]


def _check_name(name: str, analyzer: AnalyzerDep) -> None:
    if name != analyzer.model.name:
        served = analyzer.model.name
        raise HTTPException(404, f"no model named {name!r}; this service runs {served!r}")


@router.get("/{name}", response_model=ModelMetadata)
async def model_metadata(name: str, analyzer: AnalyzerDep) -> ModelMetadata:
    """Name, versions, platform, inputs and outputs of the served model."""
    _check_name(name, analyzer)
    card = analyzer.model.card
    return ModelMetadata(
        name=analyzer.model.name,
        versions=[analyzer.model.version],
        inputs=_tensors(card["inputs"]),
        outputs=_tensors(card["outputs"]),
    )


@router.get("/{name}/ready", response_model=ModelReady)
async def model_ready(name: str, analyzer: AnalyzerDep) -> ModelReady:
    """The model is loaded and warmed up (503 while loading)."""
    _check_name(name, analyzer)
    return ModelReady(name=name, ready=True)
