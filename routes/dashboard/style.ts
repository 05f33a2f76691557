/** The dashboard's stylesheet: neutral greys that read well in light and dark modes. */
export const DASHBOARD_CSS = String.raw`
:root {
  color-scheme: light dark;
  --bg: #f6f7f9; --panel: #ffffff; --text: #1d2330; --muted: #677084; --line: #e3e6ec;
  --good: #1f9d55; --bad: #d64545; --warn: #c77c02; --accent: #3b6fd8;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #15181e; --panel: #1d2129; --text: #e3e7ee; --muted: #9099aa; --line: #2d333d;
    --good: #3ccf7e; --bad: #ff6b6b; --warn: #f0b041; --accent: #6c9bff;
  }
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--text); font-size: 14px; }
header {
  display: flex; align-items: center; gap: 16px; padding: 14px 24px;
  background: var(--panel); border-bottom: 1px solid var(--line);
}
header h1 { font-size: 18px; margin: 0; font-weight: 600; }
header .spacer { flex: 1; }
header .updated { color: var(--muted); font-size: 12px; }
main { padding: 20px 24px 32px; display: grid; gap: 20px; max-width: 1500px; margin: 0 auto; }
.badge {
  display: inline-flex; align-items: center; gap: 6px; padding: 3px 10px; border-radius: 999px;
  font-size: 12px; font-weight: 600; border: 1px solid var(--line);
}
.badge::before { content: ""; width: 8px; height: 8px; border-radius: 50%; background: var(--muted); }
.badge.up::before { background: var(--good); }
.badge.down::before { background: var(--bad); }
.badge[hidden] { display: none; }
.tiles { display: grid; grid-template-columns: repeat(auto-fit, minmax(170px, 1fr)); gap: 12px; }
.tile, .panel { background: var(--panel); border: 1px solid var(--line); border-radius: 10px; }
.tile { padding: 12px 16px; }
.tile .label { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
.tile .value { font-size: 22px; font-weight: 600; margin-top: 4px; font-variant-numeric: tabular-nums; }
.charts { display: grid; grid-template-columns: 3fr 2fr; gap: 20px; }
@media (max-width: 1000px) { .charts { grid-template-columns: 1fr; } }
.panel { padding: 14px 16px; min-width: 0; }
.panel h2 { font-size: 14px; margin: 0 0 10px; font-weight: 600; }
.panel h2 small { color: var(--muted); font-weight: 400; margin-left: 6px; }
.chart { width: 100%; min-height: 220px; }
.tables { display: grid; grid-template-columns: minmax(0, 1.9fr) minmax(0, 1fr); gap: 20px; align-items: start; }
@media (max-width: 1200px) { .tables { grid-template-columns: 1fr; } }
.scroll { overflow-x: auto; }
table { width: 100%; border-collapse: collapse; font-variant-numeric: tabular-nums; font-size: 13px; }
th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--line); white-space: nowrap; }
th { color: var(--muted); font-weight: 500; font-size: 11px; text-transform: uppercase; letter-spacing: .04em; }
td.wrap { white-space: normal; }
td.num, th.num { text-align: right; }
tr:last-child td { border-bottom: none; }
.kind { color: var(--muted); }
.ok { color: var(--good); font-weight: 600; }
.error, .interrupted { color: var(--bad); font-weight: 600; }
.running { color: var(--warn); font-weight: 600; }
.muted { color: var(--muted); }
.empty { color: var(--muted); padding: 12px 10px; }
.u-legend { font-size: 11px; color: var(--text); }
.u-legend th { font-weight: 500; text-transform: none; letter-spacing: 0; color: var(--text); }
.u-legend .u-series { padding: 0 2px; }
.u-legend .u-marker { border-radius: 2px; width: 10px; height: 10px; }
`;
