"""Reports and monitoring results are artifacts, with lineage to the data and the model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import modelyard.drift as drift
from modelyard.storage import MemoryStore
from modelyard.yard import Yard


@pytest.mark.parametrize("kind", ["report", "monitoring"])
def test_a_result_is_stored_with_lineage_to_its_data_and_model(kind: str) -> None:
    yard = Yard(MemoryStore(), actor="ana")
    rng = np.random.default_rng(11)
    reference = pd.DataFrame({"x": rng.normal(size=2000), "c": rng.choice(["a", "b"], 2000)})
    live = pd.DataFrame({"x": rng.normal(0.5, size=800), "c": rng.choice(["a", "b"], 800)})
    data = yard.artifacts.put(live.to_csv().encode(), name="live-batch")
    model = yard.registry.register("churn", b"model weights")
    result: drift.DriftReport | drift.Monitoring
    if kind == "report":
        result = drift.compare(reference, live, categorical=["c"])
    else:
        result = drift.monitor(reference, live, rows=200, categorical=["c"])
    ref = yard.artifacts.put(result, parents=[data, model.artifact], name=f"drift-{kind}")
    assert ref.media_type == type(result).media_type
    back = yard.artifacts.get(ref)
    assert type(back) is type(result) and back == result
    assert back.to_html() == result.to_html()
    ancestors = {node.id for node in yard.artifacts.lineage(ref).nodes if node.id != ref.id}
    assert ancestors == {data.id, yard.artifacts.resolve(model.artifact).id}
    below = yard.artifacts.lineage(model.artifact, direction="descendants").nodes
    assert ref.id in {node.id for node in below}
