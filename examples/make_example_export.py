"""Make the synthetic CRM export in this folder: a simulated company, exported as a CRM would.

SYNTHETIC DATA. The company is funnelsim's baseline at a quarter of its lead volume, with two
SDRs and four account executives, simulated for a year (seed 7). Its leads table is turned into
an export with Salesforce-like column names (see crm-mapping.yaml), minute timestamps, and five
deliberately broken rows (an unreadable date, an SQL dated before its MQL, a negative amount,
an unknown outcome, a missing lead source) so the bad-row report has something to show.

Run from the project root: ``python examples/make_example_export.py``.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from funnelsim import load_scenario, run_scenario
from funnelsim.studies.crm_export import to_crm_export

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
COMPANY = [
    "simulation.horizon_days=365",
    "simulation.warmup_days=0",
    "sdr_team.reps=2",
    "opportunity.ae_team.reps=4",
    *[f"channels.{c}.leads_per_week={v}" for c, v in
      {"paid_search": 62.5, "inbound_content": 50, "events": 20, "outbound": 30, "partners": 12.5}.items()],
]


def main() -> None:
    mapping = yaml.safe_load((HERE / "crm-mapping.yaml").read_text())
    run = run_scenario(load_scenario(ROOT / "params" / "baseline.yaml", COMPANY), replications=1, seed=7)
    export = to_crm_export(run.leads.drop(columns="replication"))
    export["lead_id"] = [f"L-{i:06d}" for i in range(len(export))]
    export["outcome"] = export["outcome"].map({"won": "Closed Won", "lost": "Closed Lost"})
    for column in export.columns:
        if export[column].dtype.kind == "M":
            export[column] = export[column].dt.strftime(mapping["timestamp_format"])
    export = export.rename(columns=mapping["columns"]).astype(object)
    with_sql = list(export.index[export["SQL Date"].notna()])
    closed = [i for i in export.index[export["Stage"].notna()] if i not in with_sql[:2]]
    broken = {
        3: ("Created Date", "31/02/2025 25:00"),
        17: ("Lead Source", ""),
        int(with_sql[0]): ("SQL Date", "2024-12-01 09:00"),
        int(with_sql[1]): ("Amount (ACV)", "-1200"),
        int(closed[0]): ("Stage", "Closed Maybe"),
    }
    for row, (column, value) in broken.items():
        export.loc[row, column] = value
    target = HERE / "crm-export-synthetic.csv"
    export.to_csv(target, index=False)
    print(f"{target}: {len(export):,} rows (synthetic; {len(broken)} broken on purpose)")


if __name__ == "__main__":
    main()
