/** The dashboard's HTML shell: everything it loads comes from this server (see routes/dashboard.ts). */
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Data platform</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/dashboard/uplot.css">
<link rel="stylesheet" href="/dashboard/style.css">
</head>
<body>
<header>
  <h1>Data platform</h1>
  <span id="kafka" class="badge">Kafka …</span>
  <span id="registry" class="badge" hidden></span>
  <span id="running" class="muted"></span>
  <span class="spacer"></span>
  <span id="updated" class="updated">loading…</span>
</header>
<main>
  <section class="tiles" id="tiles"></section>
  <section class="charts">
    <div class="panel"><h2>Records into the lake <small>per minute, per feed, last hour</small></h2>
      <div id="chart-lake" class="chart"></div></div>
    <div class="panel"><h2>Processor <small id="processor-note">records per minute in and out, last hour</small></h2>
      <div id="chart-processor" class="chart"></div></div>
  </section>
  <section class="tables">
    <div class="panel scroll"><h2>Feeds</h2>
      <table id="feeds"><thead><tr>
        <th>Feed</th><th>Kind</th><th class="num">Lag</th><th class="num">Lake files</th>
        <th class="num">Lake size</th><th class="num">Warehouse rows</th>
        <th class="num">Quarantined</th><th>Last record</th>
      </tr></thead><tbody></tbody></table>
    </div>
    <div class="panel scroll"><h2>Pipeline runs <small>latest first</small></h2>
      <table id="runs"><thead><tr>
        <th class="num">Run</th><th>Job</th><th>Started</th><th>Outcome</th>
        <th class="num">Took</th><th>Counts</th>
      </tr></thead><tbody></tbody></table>
    </div>
  </section>
</main>
<script src="/dashboard/uplot.js"></script>
<script src="/dashboard/app.js"></script>
</body>
</html>
`;
