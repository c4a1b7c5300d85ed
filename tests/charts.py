"""The charts a page drew in AppTest: ui/chart.py's elements, read back as figures."""

from __future__ import annotations

import json
from dataclasses import dataclass

from ui.chart import NAME


@dataclass
class Chart:
    """One drawn chart: its element id (ending in its key), figure JSON, whether it is clickable."""

    id: str
    spec: str  # the figure, as JSON text
    clicks: bool

    @property
    def key(self) -> str:
        return self.id.split("-", 2)[-1]

    @property
    def figure(self) -> dict:
        return json.loads(self.spec)


def charts(at) -> list[Chart]:
    """Return the charts of an AppTest run (or any element tree), in page order."""
    found = []
    for element in at.get("bidi_component"):
        proto = element.proto
        if proto.component_name != NAME:
            continue
        payload = json.loads(proto.bytes)
        figure = json.dumps(payload["figure"], ensure_ascii=False)
        found.append(Chart(proto.id, figure, payload["clicks"]))
    return found
