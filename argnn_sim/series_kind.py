"""The series task kind (``[task] kind = "series"``): a road-sensor network forecasting
its own readings, behind the task protocol (:class:`argnn_sim.tasks.TaskKind`).

The data, the split and the network are :mod:`argnn_sim.series`; this module is what the
engines, the summary and the figures ask of the task: the steps (the training split
``passes`` times, then the test split, in time order), what is recorded (the scored
predictions), the metrics (MAE, RMSE, MAPE on the original scale, the sensors still
sending), the summary rows, and the road layout. It needs several outputs and streamed
inputs, which only the SimPy engine has.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .config import ConfigError, NetworkConfig, Scenario, ScheduleConfig, TaskConfig
from .limits import check_series
from .series import (
    SeriesTask,
    road_layout,
    road_size,
    road_topology,
    sensors_in_use,
    series_metrics,
)
from .tasks import Built, Step, TaskKind

__all__ = ["SeriesKind", "SERIES", "series_layout", "series_task_metrics"]


class SeriesKind(TaskKind):
    """``kind = "series"`` (see the module docstring)."""

    name = "series"
    keys = ("data", "data_root", "adjacency", "horizon", "hops", "hidden", "passes",
            "sensors", "train_steps", "test_steps")
    needs = frozenset({"several outputs", "streamed inputs"})
    lists_prunes = False

    def check_config(self, cfg: TaskConfig) -> None:
        if not isinstance(cfg.data, str) or not cfg.data.strip():
            raise ConfigError("task.kind = 'series' needs task.data: \"sz_taxi\" or the "
                              "path of an .npz of readings (with task.adjacency)")

    def check_scenario(self, sc: Scenario) -> None:
        net = sc.network
        if net != NetworkConfig(weight_scale=net.weight_scale):
            raise ConfigError("task.kind = 'series' builds its network from the road graph; "
                              "of [network] only weight_scale applies (hidden nodes per "
                              "sensor: task.hidden)")
        if sc.schedule.inputs != ScheduleConfig.inputs:
            raise ConfigError("schedule.inputs does not apply to a series task: training "
                              "presents the training split task.passes times (remove "
                              "schedule.inputs)")

    def build(self, sc: Scenario, streams: Any) -> Built:
        task = SeriesTask.from_config(sc.task)
        nodes, edges = road_size(task)
        check_series(sc, nodes=nodes, edges=edges, n_inputs=task.n_inputs,
                     train_steps=task.passes * len(task.train_steps()),
                     test_steps=len(task.test_steps()),
                     data_bytes=4.0 * task.series.values.nbytes)
        topo = road_topology(task, streams.weights, scale=sc.network.weight_scale)
        return Built(task, np.zeros(0, dtype=np.int64), topo)

    def training_steps(self, task: Any, sc: Scenario) -> int:
        return task.passes * len(task.train_steps())

    def evaluation_steps(self, task: Any, sc: Scenario) -> int:
        return len(task.test_steps()) if sc.schedule.evaluate else 0

    def steps(self, driver: Any, end_training: Callable[[], None] | None) -> Iterator[Step]:
        task = driver.task
        rec = driver.recorder
        n_in = task.n_inputs
        i = 0
        for _ in range(task.passes):
            for t in task.train_steps():
                rec.input = i
                yield Step(True, i, task.row("train", t), n_in)
                i += 1
        rec.input = rec.sweep = -1
        if end_training is not None:
            end_training()
        if not driver.scenario.schedule.evaluate:
            return
        steps = task.test_steps()
        driver.eval_rows = np.asarray([t for t in steps if task.scored(t)], dtype=np.int64)
        for t in steps:
            yield Step(False, t, task.row("test", t), n_in)

    def record(self, driver: Any, step: Step, outputs: Sequence[float], time: float,
               edges_removed: int) -> None:
        if step.learn or driver.task.scored(step.index):
            super().record(driver, step, outputs, time, edges_removed)
        if not step.learn and driver.task.scored(step.index):
            driver.predictions.append(list(outputs))
            driver.scored.append(step.index)

    def metrics(self, prepared: Any, driver: Any, final: dict[str, np.ndarray]
                ) -> dict[str, Any]:
        return series_task_metrics(prepared, driver, final)

    def title(self, sc: Scenario) -> str:
        data = Path(sc.task.data).stem if sc.task.data.lower() != "sz_taxi" else "SZ-taxi"
        return f"{data} series, horizon {sc.task.horizon}"

    def network_text(self, result: Any) -> str | None:
        return f"road network, {len(result.labels)} nodes"

    def summary_rows(self, result: Any) -> list[tuple[str, str]]:
        t = result.scenario.task
        m = result.metrics
        return [
            ("task", f"series {t.data}, horizon {t.horizon}, hops {t.hops}, "
                     f"{t.hidden} hidden per sensor, {t.passes} training pass(es)"),
            ("network", f"{len(result.labels)} nodes, {m['sensors']} sensors "
                        f"({m['sensors_given']} with an input node)"),
            ("test MAE", f"{m['mae']:.4f}  (original scale, metric "
                         f"{m.get('definition', 'all')}: every entry of {m['scored']} "
                         "predictions)"),
            ("test RMSE", f"{m['rmse']:.4f}"),
            ("test MAPE", f"{100 * m['mape']:.2f} %  (targets above {m['mape_threshold']:g})"),
            ("sensors kept", f"{m['sensors_kept']} of {m['sensors']} still send"),
            ("edges", f"{result.edges_before} -> {result.edges_after} "
                      f"({m['input_edges']} from sensors)"),
        ]

    def roles(self, result: Any) -> list[str]:
        first = {"x": "input", "h": "hidden", "y": "output"}
        return [first.get(str(lab)[:1], "hidden") for lab in result.labels]

    def layout(self, result: Any) -> dict[int, tuple[float, float]] | None:
        ie = result.initial_edges
        return series_layout(result.labels, ie["src"], ie["dst"])


#: the series kind (``[task] kind = "series"``)
SERIES = SeriesKind()


def series_layout(labels: Sequence[Any], src: Any, dst: Any) -> dict[int, tuple[float, float]]:
    """Positions for a series network: the road graph (the predictors' recurrent edges)
    spread by a spring layout, each sensor's input and hidden nodes beside its predictor.

    Parameters
    ----------
    labels : sequence
        Node labels (``x<i>``, ``h<i>.<k>``, ``y<i>``).
    src : array_like
        The edges' sources.
    dst : array_like
        The edges' destinations.

    Returns
    -------
    dict
        Node to (x, y).
    """
    lab = [str(v) for v in labels]
    sensor = {k: int(v[1:].split(".")[0]) for k, v in enumerate(lab)}
    n = max(sensor.values()) + 1
    adj = np.zeros((n, n))
    for a, b in zip(np.asarray(src).tolist(), np.asarray(dst).tolist()):
        if lab[a][0] == "y" and lab[b][0] == "y":
            adj[sensor[a], sensor[b]] = adj[sensor[b], sensor[a]] = 1.0
    spot = road_layout(adj)
    offset = {"x": (-0.025, 0.02), "h": (0.0, -0.025), "y": (0.0, 0.0)}
    return {k: (float(spot[sensor[k]][0] + offset[v[0]][0]),
                float(spot[sensor[k]][1] + offset[v[0]][1])) for k, v in enumerate(lab)}


def series_task_metrics(prepared: Any, driver: Any, final: dict[str, np.ndarray]
                        ) -> dict[str, Any]:
    """A series run's numbers: MAE, RMSE, MAPE on the original scale at the task's horizon
    (:func:`~argnn_sim.series.series_metrics`), the sensors whose input node still sends
    (``sensors_used``, their count ``sensors_kept``), and the edges left.

    Parameters
    ----------
    prepared : Prepared
        The run's setup.
    driver : InputDriver
        The run's teacher (the scored predictions).
    final : dict
        The remaining edges.

    Returns
    -------
    dict
    """
    task = prepared.task
    topo = prepared.topo
    out: dict[str, Any] = {"horizon": task.horizon, "sensors": task.series.num_sensors}
    if driver.predictions:
        out.update(series_metrics(task, np.asarray(driver.predictions), driver.scored))
    else:
        out.update({"definition": "all", "mae": float("nan"), "rmse": float("nan"),
                    "mape": float("nan"), "accuracy": float("nan"), "r2": float("nan"),
                    "var": float("nan"), "mape_threshold": task.series.mape_threshold,
                    "scored": 0})
    used = sensors_in_use(topo.labels, final["src"], topo.inputs)
    out.update({"sensors_given": task.n_inputs, "sensors_kept": len(used),
                "sensors_used": used, "edges": int(final["src"].size),
                "input_edges": int(np.isin(final["src"], topo.inputs).sum())})
    return out
