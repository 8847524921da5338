"""What every benchmark output carries (machine, date, model, command) and how tables are written."""

from __future__ import annotations

import os
import platform
import time
from pathlib import Path

import torch

from kvcomplete.completion.model.spec import LoadedModel


def machine(device: torch.device) -> dict:
    """The hardware and software a figure was measured on."""
    cpu = next((line.split(":", 1)[1].strip() for line in _read("/proc/cpuinfo").splitlines()
                if line.startswith("model name")), platform.processor() or platform.machine())
    memory_kb = next((int(line.split()[1]) for line in _read("/proc/meminfo").splitlines()
                      if line.startswith("MemTotal:")), 0)
    described = {"cpu": f"{cpu}, {os.cpu_count()} cores, {torch.get_num_threads()} torch threads",
                 "memory_gib": round(memory_kb / 2**20, 1), "os": platform.platform(),
                 "python": platform.python_version(), "torch": torch.__version__}
    if device.type == "cuda":
        described["gpu"] = torch.cuda.get_device_name(device)
    return described


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def load_average() -> float:
    """The 1-minute load average: how busy the CPU was with anything, this run included."""
    return round(os.getloadavg()[0], 2)


def header(loaded: LoadedModel, command: str, quick: bool, note: str | None) -> dict:
    return {"model": loaded.name, "device": str(loaded.device), "dtype": str(loaded.dtype).removeprefix("torch."),
            "machine": machine(loaded.device), "date": time.strftime("%Y-%m-%d %H:%M %Z"), "command": command,
            "quick": quick, "note": note}


def table(rows: list[dict], columns: list[str] | None = None) -> str:
    """A Markdown table of ``rows`` (the first row's keys, or ``columns``); numbers right-aligned."""
    if not rows:
        return "(no rows)\n"
    columns = columns or list(rows[0])
    align = ["---:" if isinstance(rows[0].get(column), (int, float)) and not isinstance(rows[0].get(column), bool)
             else "---" for column in columns]
    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join(align) + "|"]
    lines += ["| " + " | ".join(_cell(row.get(column)) for column in columns) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _cell(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        return ", ".join(map(str, value))
    return str(value).replace("|", "\\|")


def header_markdown(report: dict) -> str:
    machine_line = ", ".join(f"{key} {value}" for key, value in report["machine"].items())
    lines = [f"- command: `{report['command']}`", f"- date: {report['date']}",
             f"- model: {report['model']} on {report['device']} ({report['dtype']})", f"- machine: {machine_line}"]
    if report.get("seconds") is not None:
        lines.append(f"- wall time: {report['seconds']} s (model load included)")
    if report.get("note"):
        lines.append(f"- note: {report['note']}")
    return "\n".join(lines) + "\n"
