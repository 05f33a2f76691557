/**
 * A tiny Prometheus registry: counters and gauges with labels, rendered in the text exposition
 * format (version 0.0.4). Values are read from the running parts when /metrics is scraped, so
 * the registry holds no state of its own beyond what one scrape sets.
 */
export type MetricType = "counter" | "gauge";
export type Labels = Record<string, string>;

interface Sample {
  labels: Labels;
  value: number;
}

interface Metric {
  name: string;
  help: string;
  type: MetricType;
  samples: Sample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export class MetricsRegistry {
  #metrics = new Map<string, Metric>();

  /** Declares a metric (idempotent) so it is listed even without samples. */
  declare(name: string, type: MetricType, help: string): this {
    if (!METRIC_NAME.test(name)) throw new Error(`invalid metric name ${JSON.stringify(name)}`);
    if (!this.#metrics.has(name)) this.#metrics.set(name, { name, help, type, samples: [] });
    return this;
  }

  /** Sets the value of one labelled sample (replacing a sample with the same labels). */
  set(name: string, labels: Labels, value: number): this {
    const metric = this.#metrics.get(name);
    if (!metric) throw new Error(`metric ${name} is not declared`);
    for (const key of Object.keys(labels)) {
      if (!LABEL_NAME.test(key)) throw new Error(`invalid label name ${JSON.stringify(key)}`);
    }
    const id = labelText(labels);
    const existing = metric.samples.find((s) => labelText(s.labels) === id);
    if (existing) existing.value = value;
    else metric.samples.push({ labels, value });
    return this;
  }

  /** The text exposition format: HELP, TYPE, then one line per sample. */
  render(): string {
    const lines: string[] = [];
    for (const metric of this.#metrics.values()) {
      lines.push(`# HELP ${metric.name} ${escapeHelp(metric.help)}`);
      lines.push(`# TYPE ${metric.name} ${metric.type}`);
      for (const sample of metric.samples) {
        lines.push(`${metric.name}${labelText(sample.labels)} ${formatNumber(sample.value)}`);
      }
    }
    return lines.join("\n") + "\n";
  }
}

/** Content type of the text exposition format. */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

function labelText(labels: Labels): string {
  const entries = Object.entries(labels);
  if (entries.length === 0) return "";
  return `{${entries.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(",")}}`;
}

function escapeLabel(value: string): string {
  return value.replaceAll("\\", "\\\\").replaceAll("\n", "\\n").replaceAll('"', '\\"');
}

function escapeHelp(value: string): string {
  return value.replaceAll("\\", "\\\\").replaceAll("\n", "\\n");
}

function formatNumber(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}
