"""Open Inference Protocol model metadata: ``/v2/models/{name}``."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from app.api.deps import ModelDep, check_ready
from app.api.problems import problem_responses
from app.problems import ProblemError

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


def _check_name(name: str, model: ModelDep) -> None:
    if name != model.name:
        detail = f"no model named {name!r}; this service runs {model.name!r}"
        raise ProblemError("unknown-model", detail)


@router.get("/{name}", response_model=ModelMetadata, responses=problem_responses(404))
async def model_metadata(name: str, model: ModelDep) -> ModelMetadata:
    """Name, versions, platform, inputs and outputs of the served model."""
    _check_name(name, model)
    card = model.card
    return ModelMetadata(
        name=model.name,
        versions=[model.version],
        inputs=_tensors(card["inputs"]),
        outputs=_tensors(card["outputs"]),
    )


@router.get(
    "/{name}/ready",
    response_model=ModelReady,
    responses=problem_responses(404, 503),
    dependencies=[Depends(check_ready)],
)
async def model_ready(name: str, model: ModelDep) -> ModelReady:
    """The model is loaded and warmed up (503 while loading)."""
    _check_name(name, model)
    return ModelReady(name=name, ready=True)
