"""Proposal summaries as terminal tables."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.table import Table


def summary_table(title: str, metrics: Mapping[str, Any]) -> Table:
    """The headline figures of a proposal's metrics (as :meth:`ProposalMetrics.to_dict`)."""
    table = Table(title=title, show_header=False)
    table.add_column("metric", style="bold")
    table.add_column("value", justify="right")
    table.add_row("total length", f"{metrics['total_km']:,.1f} km")
    for deployment, km in sorted(metrics["km_by_deployment"].items(), key=lambda kv: -kv[1]):
        usd = metrics["capex_by_deployment"].get(deployment, 0.0)
        table.add_row(f"  {deployment}", f"{km:,.1f} km · USD {usd:,.0f}")
    for item, usd in metrics["capex_by_deployment"].items():
        if item not in metrics["km_by_deployment"]:
            table.add_row(f"  {item}", f"USD {usd:,.0f}")
    table.add_row("capex", f"USD {metrics['capex_usd_total']:,.0f}")
    table.add_row("reuse of existing corridors", f"{metrics['reuse_share']:.0%}")
    table.add_row("  of which existing fiber", f"{metrics['fiber_reuse_share']:.0%}")
    if metrics.get("one_way_latency_ms") is not None:
        table.add_row("one-way latency", f"{metrics['one_way_latency_ms']:.2f} ms")
    if metrics.get("people_covered") is not None:
        table.add_row("people covered", f"{metrics['people_covered']:,}")
    if metrics.get("usd_per_person") is not None:
        table.add_row("USD per person", f"{metrics['usd_per_person']:,.0f}")
    states = metrics.get("states_crossed") or []
    if states:
        shown = ", ".join(f"{s['name']} {s['km']:,.0f} km" for s in states[:6])
        more = f" (+{len(states) - 6} more)" if len(states) > 6 else ""
        table.add_row("states crossed", shown + more)
    if metrics.get("municipality_count") is not None:
        table.add_row("municipalities crossed", f"{metrics['municipality_count']:,}")
    roles = metrics.get("metrics_by_role") or {}
    if len(roles) > 1:
        for role, figures in roles.items():
            latency = figures.get("one_way_latency_ms")
            extra = f" · {latency:.2f} ms" if latency is not None else ""
            table.add_row(
                f"[dim]{role}[/]",
                f"{figures['total_km']:,.1f} km · USD {figures['capex_usd']:,.0f}{extra}",
            )
    return table
